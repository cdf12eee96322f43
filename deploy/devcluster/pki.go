package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// pki holds the paths of everything ensurePKI writes under DIR/pki.
type pki struct {
	Dir       string
	CACert    string
	CAKey     string
	AdminCert string // serving cert of the apiserver and client cert of everyone (O=system:masters)
	AdminKey  string
	SAKey     string // service-account token signing key (RSA)
	SAPub     string
}

func newPKI(dir string) pki {
	return pki{
		Dir:       dir,
		CACert:    filepath.Join(dir, "ca.crt"),
		CAKey:     filepath.Join(dir, "ca.key"),
		AdminCert: filepath.Join(dir, "admin.crt"),
		AdminKey:  filepath.Join(dir, "admin.key"),
		SAKey:     filepath.Join(dir, "sa.key"),
		SAPub:     filepath.Join(dir, "sa.pub"),
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// ensure creates the CA, the admin cert and the service-account key pair
// unless they already exist (a restarted cluster keeps its identity, so old
// kubeconfigs stay valid).
func (p pki) ensure() error {
	if exists(p.CACert) && exists(p.CAKey) && exists(p.AdminCert) && exists(p.AdminKey) && exists(p.SAKey) && exists(p.SAPub) {
		return nil
	}
	if err := os.MkdirAll(p.Dir, 0o700); err != nil {
		return err
	}
	now := time.Now().Add(-time.Hour)
	notAfter := now.Add(10 * 365 * 24 * time.Hour)

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "devcluster-ca"},
		NotBefore:             now,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}

	adminKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	adminTmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "kubernetes-admin", Organization: []string{"system:masters"}},
		NotBefore:    now,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames: []string{
			"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc.cluster.local",
		},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1"), net.ParseIP(serviceIP)},
	}
	adminDER, err := x509.CreateCertificate(rand.Reader, adminTmpl, caCert, &adminKey.PublicKey, caKey)
	if err != nil {
		return err
	}

	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	saPubDER, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return err
	}

	caKeyDER, err := x509.MarshalECPrivateKey(caKey)
	if err != nil {
		return err
	}
	adminKeyDER, err := x509.MarshalECPrivateKey(adminKey)
	if err != nil {
		return err
	}
	files := []struct {
		path, typ string
		der       []byte
	}{
		{p.CACert, "CERTIFICATE", caDER},
		{p.CAKey, "EC PRIVATE KEY", caKeyDER},
		{p.AdminCert, "CERTIFICATE", adminDER},
		{p.AdminKey, "EC PRIVATE KEY", adminKeyDER},
		{p.SAKey, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(saKey)},
		{p.SAPub, "PUBLIC KEY", saPubDER},
	}
	for _, f := range files {
		data := pem.EncodeToMemory(&pem.Block{Type: f.typ, Bytes: f.der})
		if err := os.WriteFile(f.path, data, 0o600); err != nil {
			return fmt.Errorf("write %s: %w", f.path, err)
		}
	}
	return nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		panic(err)
	}
	return n
}

// kubeconfig renders an admin kubeconfig with the certs embedded, so the file
// can be copied elsewhere and still works.
func (p pki) kubeconfig(server string) ([]byte, error) {
	crt, err := readNonEmpty(p.AdminCert)
	if err != nil {
		return nil, err
	}
	key, err := readNonEmpty(p.AdminKey)
	if err != nil {
		return nil, err
	}
	return p.kubeconfigFor(server, "devcluster-admin", crt, key)
}

// kubeconfigFor renders a kubeconfig for one client certificate (PEM).
func (p pki) kubeconfigFor(server, user string, crt, key []byte) ([]byte, error) {
	ca, err := readNonEmpty(p.CACert)
	if err != nil {
		return nil, err
	}
	b64 := func(b []byte) string { return base64Std(b) }
	return []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: devcluster
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: %s
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: devcluster
  context:
    cluster: devcluster
    user: %s
    namespace: default
current-context: devcluster
preferences: {}
`, server, b64(ca), user, b64(crt), b64(key), user)), nil
}

func readNonEmpty(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, errors.New("empty " + path)
	}
	return b, nil
}

// issueClient signs a client certificate for one identity (CN = user name,
// O = groups) with the cluster CA: how a node (system:node:NAME in
// system:nodes) or a host process proves who it is to the apiserver.
func (p pki) issueClient(user string, groups []string) (crtPEM, keyPEM []byte, err error) {
	caCert, caKey, err := p.loadCA()
	if err != nil {
		return nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now().Add(-time.Hour)
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: user, Organization: groups},
		NotBefore:    now,
		NotAfter:     now.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}

func (p pki) loadCA() (*x509.Certificate, *ecdsa.PrivateKey, error) {
	crtPEM, err := readNonEmpty(p.CACert)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := readNonEmpty(p.CAKey)
	if err != nil {
		return nil, nil, err
	}
	crtBlock, _ := pem.Decode(crtPEM)
	keyBlock, _ := pem.Decode(keyPEM)
	if crtBlock == nil || keyBlock == nil {
		return nil, nil, fmt.Errorf("%s or %s is not PEM", p.CACert, p.CAKey)
	}
	crt, err := x509.ParseCertificate(crtBlock.Bytes)
	if err != nil {
		return nil, nil, err
	}
	key, err := x509.ParseECPrivateKey(keyBlock.Bytes)
	if err != nil {
		return nil, nil, err
	}
	return crt, key, nil
}
