package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// runCredentials writes a kubeconfig for one identity signed by the cluster's
// CA, e.g. the real node's kubelet (system:node:NAME, group system:nodes) so
// the Node authorizer and NodeRestriction apply to it as on any cluster.
//
//	devcluster credentials --dir DIR --user system:node:n0 --group system:nodes --out FILE
func runCredentials(args []string) int {
	fs := flag.NewFlagSet("credentials", flag.ContinueOnError)
	dir := fs.String("dir", "", "state directory of a cluster started with 'up' (pki/ and ports.json); required")
	user := fs.String("user", "", "user name: the certificate's CN; required")
	groups := fs.String("group", "", "comma-separated groups: the certificate's O")
	out := fs.String("out", "", "where to write the kubeconfig (mode 0600); required")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dir == "" || *user == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "devcluster credentials: --dir, --user and --out are required")
		return 2
	}
	if err := writeCredentials(*dir, *user, splitList(*groups), *out); err != nil {
		fmt.Fprintln(os.Stderr, "devcluster credentials:", err)
		return 1
	}
	return 0
}

func writeCredentials(dir, user string, groups []string, out string) error {
	ports, ok := loadPortsFile(filepath.Join(dir, "ports.json"))
	if !ok {
		return fmt.Errorf("no ports.json in %s: start the cluster with 'devcluster up --dir %s' first", dir, dir)
	}
	p := newPKI(filepath.Join(dir, "pki"))
	crt, key, err := p.issueClient(user, groups)
	if err != nil {
		return fmt.Errorf("certificate for %s: %w", user, err)
	}
	server := fmt.Sprintf("https://127.0.0.1:%d", ports.APIServer)
	kc, err := p.kubeconfigFor(server, user, crt, key)
	if err != nil {
		return err
	}
	return writeFileAtomic(out, kc, 0o600)
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
