package main

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/component-base/version"
)

//go:embed stages/*.yaml
var stageFiles embed.FS

const (
	serviceCIDR = "10.96.0.0/16"
	serviceIP   = "10.96.0.1"
	podCIDR     = "10.244.0.1/16" // kwok hands pod IPs out of this range
	nodeIP      = "10.255.0.1"
)

// Ports are the TCP ports (all on 127.0.0.1) one cluster uses; written to
// DIR/ports.json.
type Ports struct {
	APIServer         int `json:"apiserver"`
	EtcdClient        int `json:"etcd_client"`
	EtcdPeer          int `json:"etcd_peer"`
	ControllerManager int `json:"controller_manager"`
	Scheduler         int `json:"scheduler"`
	Kwok              int `json:"kwok"`
}

func (p *Ports) all() []*int {
	return []*int{&p.APIServer, &p.EtcdClient, &p.EtcdPeer, &p.ControllerManager, &p.Scheduler, &p.Kwok}
}

type upOptions struct {
	dir           string
	apiserverPort int
	nodeName      string
	nodes         int
	nodeCPU       string
	nodeMemory    string
	nodePods      string
	kwokBin       string
	timeout       time.Duration
	verbosity     int
	fresh         bool
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stdout, "devcluster: "+format+"\n", args...)
}

func runUp(args []string) int {
	var o upOptions
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	fs.StringVar(&o.dir, "dir", "", "state directory (certs, etcd data, logs, kubeconfig, ports.json); required")
	fs.IntVar(&o.apiserverPort, "apiserver-port", 0, "kube-apiserver port on 127.0.0.1 (0: reuse DIR/ports.json if free, else random)")
	fs.StringVar(&o.nodeName, "node-name", "kwok-node-0", "name of the simulated node (with --nodes N>1: NAME-0..NAME-N-1 after trimming a trailing -0)")
	fs.IntVar(&o.nodes, "nodes", 1, "number of simulated nodes")
	fs.StringVar(&o.nodeCPU, "node-cpu", "32", "cpu capacity of each simulated node")
	fs.StringVar(&o.nodeMemory, "node-memory", "256Gi", "memory capacity of each simulated node")
	fs.StringVar(&o.nodePods, "node-pods", "1000", "pod capacity of each simulated node")
	fs.StringVar(&o.kwokBin, "kwok", "", "kwok binary (default: 'kwok' beside this binary, else on PATH)")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up if the cluster is not ready after this long")
	fs.IntVar(&o.verbosity, "v", 0, "klog verbosity of the Kubernetes components")
	fs.BoolVar(&o.fresh, "fresh", false, "wipe etcd data (and ports) in DIR before starting; certs are kept")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.dir == "" {
		fmt.Fprintln(os.Stderr, "devcluster up: --dir is required")
		return 2
	}
	if o.nodes < 1 {
		o.nodes = 1
	}
	if err := up(o); err != nil {
		fmt.Fprintln(os.Stderr, "devcluster: error:", err)
		return 1
	}
	return 0
}

// child is one supervised component process.
type child struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	err     error
}

type supervisor struct {
	mu       sync.Mutex
	children []*child
	stopping bool
	cancel   context.CancelCauseFunc
}

func (s *supervisor) start(name, bin string, args []string, logPath string, env []string) (*child, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.Env = append(os.Environ(), env...)
	// Own process group: a terminal's Ctrl-C reaches only the supervisor, which
	// then stops the components in order. Pdeathsig: if the supervisor dies
	// (even by SIGKILL) the kernel kills the components too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	s.mu.Lock()
	s.children = append(s.children, c)
	s.mu.Unlock()
	go func() {
		c.err = cmd.Wait()
		_ = logFile.Close()
		close(c.done)
		s.mu.Lock()
		stopping := s.stopping
		s.mu.Unlock()
		if !stopping {
			s.cancel(fmt.Errorf("%s exited unexpectedly (%v); last log lines of %s:\n%s", name, c.err, logPath, tail(logPath, 30)))
		}
	}()
	logf("started %s (pid %d), log: %s", name, cmd.Process.Pid, logPath)
	return c, nil
}

// stopAll stops the components in reverse start order: SIGTERM, then SIGKILL
// after a grace period.
func (s *supervisor) stopAll() {
	s.mu.Lock()
	s.stopping = true
	children := append([]*child(nil), s.children...)
	s.mu.Unlock()
	for i := len(children) - 1; i >= 0; i-- {
		c := children[i]
		select {
		case <-c.done:
			continue
		default:
		}
		t0 := time.Now()
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(15 * time.Second):
			logf("%s did not stop after 15s; killing it", c.name)
			_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
			<-c.done
		}
		logf("stopped %s (%.1fs)", c.name, time.Since(t0).Seconds())
	}
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// loadPortsFile reads DIR/ports.json.
func loadPortsFile(path string) (*Ports, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false
	}
	var p Ports
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, false
	}
	return &p, true
}

// loadPorts reuses DIR/ports.json when every port in it is still free.
func loadPorts(path string) (*Ports, bool) {
	p, ok := loadPortsFile(path)
	if !ok {
		return nil, false
	}
	for _, v := range p.all() {
		if *v <= 0 || !portFree(*v) {
			return nil, false
		}
	}
	return p, true
}

func choosePorts(o upOptions, path string) (*Ports, error) {
	if p, ok := loadPorts(path); ok && !o.fresh && (o.apiserverPort == 0 || o.apiserverPort == p.APIServer) {
		return p, nil
	}
	free, err := freePorts(6)
	if err != nil {
		return nil, err
	}
	p := &Ports{}
	for i, v := range p.all() {
		*v = free[i]
	}
	if o.apiserverPort != 0 {
		if !portFree(o.apiserverPort) {
			return nil, fmt.Errorf("--apiserver-port %d is in use", o.apiserverPort)
		}
		for _, v := range p.all()[1:] {
			if *v == o.apiserverPort {
				extra, err := freePorts(7)
				if err != nil {
					return nil, err
				}
				for _, e := range extra {
					if e != o.apiserverPort {
						*v = e
						break
					}
				}
			}
		}
		p.APIServer = o.apiserverPort
	}
	return p, nil
}

func findKwok(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if self, err := os.Executable(); err == nil {
		cand := filepath.Join(filepath.Dir(self), "kwok")
		if exists(cand) {
			return cand, nil
		}
	}
	p, err := exec.LookPath("kwok")
	if err != nil {
		return "", errors.New("kwok binary not found beside devcluster nor on PATH (build it with deploy/devcluster/build.sh, or pass --kwok)")
	}
	return p, nil
}

// acquireLock refuses to run two supervisors on one DIR.
func acquireLock(dir string) (func(), error) {
	pidPath := filepath.Join(dir, "devcluster.pid")
	if b, err := os.ReadFile(pidPath); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid != os.Getpid() {
			if syscall.Kill(pid, 0) == nil {
				if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && strings.Contains(string(cmdline), "devcluster") {
					return nil, fmt.Errorf("a devcluster (pid %d) is already running in %s", pid, dir)
				}
			}
		}
	}
	if err := os.WriteFile(pidPath, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return nil, err
	}
	return func() { _ = os.Remove(pidPath) }, nil
}

func up(o upOptions) error {
	started := time.Now()
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return err
	}
	logsDir := filepath.Join(dir, "logs")
	for _, d := range []string{dir, logsDir, filepath.Join(dir, "kwok")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	unlock, err := acquireLock(dir)
	if err != nil {
		return err
	}
	defer unlock()

	kubeconfigPath := filepath.Join(dir, "kubeconfig")
	_ = os.Remove(kubeconfigPath) // DIR/kubeconfig appears only once the cluster is ready
	if o.fresh {
		_ = os.RemoveAll(filepath.Join(dir, "etcd"))
		_ = os.Remove(filepath.Join(dir, "ports.json"))
	}

	self, err := os.Executable()
	if err != nil {
		return err
	}
	kwokBin, err := findKwok(o.kwokBin)
	if err != nil {
		return err
	}

	ports, err := choosePorts(o, filepath.Join(dir, "ports.json"))
	if err != nil {
		return err
	}
	portsJSON, _ := json.MarshalIndent(ports, "", "  ")
	if err := writeFileAtomic(filepath.Join(dir, "ports.json"), append(portsJSON, '\n'), 0o644); err != nil {
		return err
	}

	p := newPKI(filepath.Join(dir, "pki"))
	if err := p.ensure(); err != nil {
		return fmt.Errorf("certificates: %w", err)
	}
	server := fmt.Sprintf("https://127.0.0.1:%d", ports.APIServer)
	kc, err := p.kubeconfig(server)
	if err != nil {
		return err
	}
	// Components use their own copy; DIR/kubeconfig is written when ready.
	internalKubeconfig := filepath.Join(p.Dir, "admin.kubeconfig")
	if err := writeFileAtomic(internalKubeconfig, kc, 0o600); err != nil {
		return err
	}

	stageDir := filepath.Join(dir, "kwok", "stages")
	_ = os.RemoveAll(stageDir)
	if err := os.MkdirAll(stageDir, 0o755); err != nil {
		return err
	}
	var stagePaths []string
	entries, err := fs.ReadDir(stageFiles, "stages")
	if err != nil {
		return err
	}
	for _, e := range entries {
		b, err := stageFiles.ReadFile("stages/" + e.Name())
		if err != nil {
			return err
		}
		dst := filepath.Join(stageDir, e.Name())
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return err
		}
		stagePaths = append(stagePaths, dst)
	}

	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	sup := &supervisor{cancel: cancel}

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	errSignal := errors.New("signal")
	go func() {
		select {
		case s := <-sigs:
			logf("received %s, stopping", s)
			cancel(fmt.Errorf("%w: %s", errSignal, s))
		case <-ctx.Done():
		}
	}()

	failed := func(err error) error {
		sup.stopAll()
		if cause := context.Cause(ctx); cause != nil && errors.Is(cause, errSignal) {
			return nil
		}
		return err
	}

	v := fmt.Sprintf("--v=%d", o.verbosity)
	deadline, cancelDeadline := context.WithTimeoutCause(ctx, o.timeout, fmt.Errorf("cluster not ready after %s", o.timeout))
	defer cancelDeadline()

	// etcd
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", ports.EtcdClient)
	if _, err := sup.start("etcd", self, []string{"etcd",
		"--data-dir=" + filepath.Join(dir, "etcd"),
		"--listen-client-url=" + etcdURL,
		fmt.Sprintf("--listen-peer-url=http://127.0.0.1:%d", ports.EtcdPeer),
	}, filepath.Join(logsDir, "etcd.log"), nil); err != nil {
		return failed(err)
	}
	if err := waitEtcd(deadline, etcdURL); err != nil {
		return failed(readyErr(deadline, "etcd", err))
	}

	// kube-apiserver
	if _, err := sup.start("kube-apiserver", self, []string{"apiserver",
		"--etcd-servers=" + etcdURL,
		"--etcd-prefix=/registry",
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", ports.APIServer),
		"--cert-dir=" + filepath.Join(p.Dir, "apiserver"),
		"--tls-cert-file=" + p.AdminCert,
		"--tls-private-key-file=" + p.AdminKey,
		"--client-ca-file=" + p.CACert,
		"--service-account-key-file=" + p.SAPub,
		"--service-account-signing-key-file=" + p.SAKey,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--proxy-client-cert-file=" + p.AdminCert,
		"--proxy-client-key-file=" + p.AdminKey,
		// Front-proxy (aggregation) identity: without it every component logs
		// "missing content for CA bundle ... requestheader-client-ca-file".
		"--requestheader-client-ca-file=" + p.CACert,
		"--requestheader-allowed-names=kubernetes-admin",
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--service-cluster-ip-range=" + serviceCIDR,
		"--authorization-mode=Node,RBAC",
		// The apiserver's identity towards a real node's kubelet (logs, exec,
		// port-forward); the kubelet authorizes it by webhook.
		"--kubelet-client-certificate=" + p.AdminCert,
		"--kubelet-client-key=" + p.AdminKey,
		"--kubelet-preferred-address-types=InternalIP",
		"--allow-privileged=true",
		"--endpoint-reconciler-type=none",
		"--profiling=false",
		v,
	}, filepath.Join(logsDir, "kube-apiserver.log"), nil); err != nil {
		return failed(err)
	}
	client, err := newAPIClient(internalKubeconfig)
	if err != nil {
		return failed(err)
	}
	if err := waitReadyz(deadline, client); err != nil {
		return failed(readyErr(deadline, "kube-apiserver /readyz", err))
	}
	logf("kube-apiserver ready at %s", server)

	common := []string{
		"--kubeconfig=" + internalKubeconfig,
		"--authentication-kubeconfig=" + internalKubeconfig,
		"--authorization-kubeconfig=" + internalKubeconfig,
		"--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics",
		"--bind-address=127.0.0.1",
		"--leader-elect=false",
		v,
	}
	kcmArgs := append([]string{"controller-manager"}, common...)
	kcmArgs = append(kcmArgs,
		fmt.Sprintf("--secure-port=%d", ports.ControllerManager),
		"--cert-dir="+filepath.Join(p.Dir, "controller-manager"),
		"--root-ca-file="+p.CACert,
		"--service-account-private-key-file="+p.SAKey,
		"--cluster-signing-cert-file="+p.CACert,
		"--cluster-signing-key-file="+p.CAKey,
		"--cluster-name=devcluster",
		"--controllers=*",
		"--use-service-account-credentials=false",
		"--kube-api-qps=200",
		"--kube-api-burst=400",
	)
	if _, err := sup.start("kube-controller-manager", self, kcmArgs, filepath.Join(logsDir, "kube-controller-manager.log"), nil); err != nil {
		return failed(err)
	}
	schedArgs := append([]string{"scheduler"}, common...)
	schedArgs = append(schedArgs,
		fmt.Sprintf("--secure-port=%d", ports.Scheduler),
		"--cert-dir="+filepath.Join(p.Dir, "scheduler"),
	)
	if _, err := sup.start("kube-scheduler", self, schedArgs, filepath.Join(logsDir, "kube-scheduler.log"), nil); err != nil {
		return failed(err)
	}

	// kwok reads ~/.kwok/kwok.yaml if it exists: give it a HOME of its own.
	kwokHome := filepath.Join(dir, "kwok", "home")
	if err := os.MkdirAll(kwokHome, 0o755); err != nil {
		return failed(err)
	}
	if _, err := sup.start("kwok", kwokBin, []string{
		"--kubeconfig=" + internalKubeconfig,
		"--config=" + strings.Join(stagePaths, ","),
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		"--node-ip=" + nodeIP,
		"--cidr=" + podCIDR,
		fmt.Sprintf("--node-port=%d", ports.Kwok),
		fmt.Sprintf("--server-address=127.0.0.1:%d", ports.Kwok),
		"--tls-cert-file=" + p.AdminCert,
		"--tls-private-key-file=" + p.AdminKey,
		"--node-lease-duration-seconds=40",
	}, filepath.Join(logsDir, "kwok.log"), []string{"HOME=" + kwokHome}); err != nil {
		return failed(err)
	}

	nodes := nodeNames(o.nodeName, o.nodes)
	if err := bootstrap(deadline, client, o, nodes); err != nil {
		return failed(readyErr(deadline, "bootstrap objects", err))
	}
	if err := waitNodesReady(deadline, client, nodes); err != nil {
		return failed(readyErr(deadline, "node Ready", err))
	}
	if err := waitDefaultServiceAccount(deadline, client); err != nil {
		return failed(readyErr(deadline, "default service account", err))
	}

	if err := writeFileAtomic(kubeconfigPath, kc, 0o600); err != nil {
		return failed(err)
	}
	logf("ready in %.1fs: Kubernetes %s, %s, nodes %s", time.Since(started).Seconds(), version.Get().GitVersion, server, strings.Join(nodes, ","))
	logf("ports: %s", strings.ReplaceAll(string(portsJSON), "\n", ""))
	logf("kubeconfig: %s", kubeconfigPath)
	fmt.Fprintf(os.Stdout, "export KUBECONFIG=%s\n", kubeconfigPath)

	<-ctx.Done()
	cause := context.Cause(ctx)
	_ = os.Remove(kubeconfigPath)
	sup.stopAll()
	if cause != nil && !errors.Is(cause, errSignal) {
		return cause
	}
	logf("stopped")
	return nil
}

// readyErr prefers the reason the context ended (a component died, a
// signal, the deadline) over the last poll error.
func readyErr(ctx context.Context, what string, err error) error {
	if cause := context.Cause(ctx); cause != nil {
		return fmt.Errorf("waiting for %s: %w (last error: %v)", what, cause, err)
	}
	return fmt.Errorf("waiting for %s: %w", what, err)
}

func nodeNames(base string, n int) []string {
	if n == 1 {
		return []string{base}
	}
	stem := strings.TrimSuffix(base, "-0")
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%d", stem, i)
	}
	return names
}
