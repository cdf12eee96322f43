"""A real node for the devcluster: containers that really run.

    node = RealNode(cluster, state_dir)   # cluster: a started DevCluster
    node.start()      # builds (cached), joins the node, waits until it is Ready
    node.ingress_url  # Traefik on loopback: the stores' Ingresses, by Host header
    node.stop()       # stops every container and process, cleans the host
    node.leftovers()  # what is still on the host (empty after stop)

What runs (logs under ``state_dir/logs``): containerd (Debian's, with runc and
the CNI bridge), the kubelet and kube-proxy (built from the devcluster's
Kubernetes modules) in a private mount namespace whose /run, /var/log and
host-wide sysctls are the node's own; CoreDNS, Traefik and a volume
provisioner as host processes with their own client certificates. The kubelet
joins as ``system:node:urumi-node-0`` (Node authorizer, NodeRestriction),
labelled ``urumi.dev/node=real`` and tainted ``urumi.dev/real-node``: only
stores given ``realnode_config.store_values()`` land there; kwok's node stays
for everything else. One real node per machine (it owns host iptables chains).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import msgspec

from services.runtime import realnode_config as cfg
from services.runtime import realnode_host as host
from services.runtime.devcluster import REPO_ROOT, DevCluster, DevClusterError
from services.runtime.kubeapply import apply_manifests
from services.runtime.natsserver import free_port

REALNODE_DIR = REPO_ROOT / "deploy" / "realnode"
BUILD_TIMEOUT = 90 * 60.0
LOCK_PATH = Path("/run/lock/urumi-realnode.lock")
HOST_STATE = Path("/run/urumi-realnode.host.json")
SYSTEM_TOOLS = (
    "containerd",
    "runc",
    "ctr",
    "iptables",
    "iptables-save",
    "ipset",
    "ip",
    "unshare",
    "nsenter",
)
IDENTITIES = {
    "kubelet": (f"system:node:{cfg.NODE_NAME}", "system:nodes"),
    "kube-proxy": ("system:kube-proxy", ""),
    "coredns": ("urumi:coredns", ""),
    "traefik": ("urumi:traefik", ""),
    "local-path": ("urumi:local-path-provisioner", ""),
    "kube-router": ("urumi:kube-router", ""),
}
HOST_PROCESSES = frozenset({"traefik", "coredns", "local-path", "kube-router"})


class RealNodeError(RuntimeError):
    """The real node could not be built, started or cleaned; the message says what to do."""


def _run(cmd: list[str], *, check: bool = True, timeout: float = 120.0) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise RealNodeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def _build(script: Path, *args: str) -> list[str]:
    """Run a cached build script (progress on our stderr); its stdout lines."""
    proc = subprocess.run(
        ["bash", str(script), *args],
        stdout=subprocess.PIPE,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    if proc.returncode != 0:
        raise RealNodeError(f"{script} failed (exit {proc.returncode}); its progress is above")
    return proc.stdout.strip().splitlines()


class _Process:
    """One supervised child with its own log file."""

    def __init__(self, name: str, cmd: list[str], log: Path, env: dict[str, str] | None = None):
        self.name, self.log = name, log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, **(env or {})},
            )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def check(self) -> None:
        if not self.alive():
            tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-25:])
            raise RealNodeError(f"{self.name} exited ({self.proc.returncode}); {self.log}:\n{tail}")

    def stop(self, grace: float = 20.0) -> None:
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class RealNode:
    def __init__(self, cluster: DevCluster, state_dir: Path, *, ingress_port: int = 0) -> None:
        self.cluster = cluster
        self.state_dir = Path(state_dir).resolve()
        self._ingress_port = ingress_port
        self._procs: list[_Process] = []
        self._holder: _Process | None = None
        self._lock: IO[str] | None = None
        self.layout: cfg.NodeLayout | None = None
        self.bin_dir: Path | None = None
        self.host_before: host.HostState | None = None

    # -- public --------------------------------------------------------------
    @property
    def ingress_port(self) -> int:
        assert self.layout is not None, "start() first"
        return self.layout.ingress_port

    @property
    def ingress_url(self) -> str:
        return f"http://127.0.0.1:{self.ingress_port}"

    def start(self, timeout: float = 300.0) -> None:
        _preflight()
        self._lock = _take_lock()
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every container and process; remove what the node added to the host.
        Does nothing unless this node holds the machine's lock (a node that could
        not start must not clean up after the one that runs)."""
        if self._lock is None:
            return
        for proc in reversed(self._procs):
            if proc.name in HOST_PROCESSES:
                proc.stop()
        self._stop_named("kubelet")
        self._remove_pods()
        self._stop_named("kube-proxy")
        self._stop_named("containerd")
        self._kill_namespace()
        self._procs.clear()
        self._forget_node()
        if HOST_STATE.exists():
            _restore_host()
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _forget_node(self) -> None:
        """Delete the Node object: a cluster that outlives its real node
        stays Ready (and the node's pods are garbage collected)."""
        if self.layout is not None and self.cluster.running():
            with contextlib.suppress(OSError, DevClusterError):
                self.cluster.request(f"/api/v1/nodes/{cfg.NODE_NAME}", method="DELETE")

    def leftovers(self) -> list[str]:
        """What the node would have left on the host (empty when clean)."""
        found = [f"cgroup {p}" for p in host.pod_cgroups()]
        for tool in ("iptables", "ip6tables"):
            for table in ("filter", "nat", "mangle"):
                text = _run([f"{tool}-save", "-t", table], check=False)
                found += [
                    f"{tool} {table} chain {c}"
                    for c in host.chains_in(text)
                    if c.startswith(host.NODE_CHAIN_PREFIXES)
                ]
        before = self.host_before.ipsets if self.host_before else []
        found += [f"ipset {name}" for name in host.node_ipsets(_ipsets(), keep=before)]
        if Path(f"/sys/class/net/{cfg.BRIDGE}").exists():
            found.append(f"bridge {cfg.BRIDGE}")
        found += [f"veth {n}" for n in _veths_on_bridge()]
        mounts = Path("/proc/self/mounts").read_text()
        found += [f"mount {m}" for m in host.mounts_under(mounts, [str(self.state_dir)])]
        markers = [str(cfg.RUN_DIR), str(self.state_dir)]
        found += [f"process {pid} {cmd}" for pid, cmd in _node_processes(markers)]
        if HOST_STATE.exists():
            found.append(f"host state {HOST_STATE} (not restored)")
        forward = host.IP_FORWARD.read_text().strip()
        if self.host_before is not None and forward != self.host_before.ip_forward:
            found.append(f"ip_forward {forward} (was {self.host_before.ip_forward})")
        return found

    def crictl(self, *args: str) -> str:
        """crictl against the node's containerd (inside its mount namespace)."""
        return _run(self._crictl_argv(*args), timeout=60)

    def exec(self, namespace: str, pod: str, container: str, *cmd: str) -> int:
        """Run ``cmd`` in a running container of a pod on the node; its exit code."""
        labels = [f"io.kubernetes.pod.namespace={namespace}", f"io.kubernetes.pod.name={pod}"]
        found = self.crictl(
            "ps", "--label", labels[0], "--label", labels[1], "--name", container, "-q"
        )
        if not found.split():
            raise RealNodeError(f"no running container {container} in pod {namespace}/{pod}")
        argv = self._crictl_argv("exec", found.split()[0], *cmd)
        return subprocess.run(argv, capture_output=True, timeout=60, check=False).returncode

    def _crictl_argv(self, *args: str) -> list[str]:
        assert self.bin_dir is not None, "start() first"
        assert self.layout is not None, "start() first"
        endpoint = f"unix://{self.layout.containerd_socket}"
        return self._in_ns([str(self.bin_dir / "crictl"), "--runtime-endpoint", endpoint, *args])

    # -- start ---------------------------------------------------------------
    def _start(self, timeout: float) -> None:
        if HOST_STATE.exists():  # a previous node on this machine did not stop cleanly
            self._kill_namespace()
            _restore_host()
        self.bin_dir = Path(_build(REALNODE_DIR / "build.sh")[-1])
        images = [line.split(maxsplit=1) for line in _build(REALNODE_DIR / "images" / "build.sh")]
        self.layout = self._layout(dict((ref, path) for ref, path in images))
        self._write_configs(self.layout)
        self._credentials()
        apply_manifests(self.cluster, self._manifests())
        self.host_before = _prepare_host(self.state_dir)
        self._start_namespace()
        self._start_containerd(self.layout, [Path(path) for _, path in images])
        self._start_kubelet(self.layout)
        self._wait(lambda: self._node_ready(), timeout, "node Ready")
        self._start_services(self.layout)

    def _layout(self, images: dict[str, str]) -> cfg.NodeLayout:
        ports = [free_port() for _ in range(10)]
        pause = next(ref for ref in images if "/pause:" in ref)
        return cfg.NodeLayout(
            state_dir=self.state_dir,
            kubelet_port=ports[0],
            kubelet_healthz_port=ports[1],
            proxy_healthz_port=ports[2],
            proxy_metrics_port=ports[3],
            dns_health_port=ports[4],
            dns_ready_port=ports[5],
            ingress_port=self._ingress_port or ports[6],
            ingress_ping_port=ports[7],
            storage_health_port=ports[8],
            router_health_port=ports[9],
            sandbox_image=pause,
        )

    def _write_configs(self, layout: cfg.NodeLayout) -> None:
        d = self.state_dir
        for sub in ("logs", "cni/net.d", "cni/ipam", "kubelet", "pod-logs", "volumes", "sysctl"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        layout.kubeconfigs.mkdir(mode=0o700, exist_ok=True)
        (d / "containerd.toml").write_text(cfg.containerd_config(layout))
        (d / "cni/net.d/10-urumi.conflist").write_text(json.dumps(cfg.cni_config(layout)))
        ca = self.cluster.state_dir / "pki" / "ca.crt"
        (d / "kubelet.yaml").write_text(cfg.to_yaml(cfg.kubelet_config(layout, ca)))
        (d / "kube-proxy.yaml").write_text(cfg.to_yaml(cfg.kube_proxy_config(layout)))
        (d / "Corefile").write_text(cfg.corefile(layout))
        (d / "resolv.conf").write_text(cfg.resolv_conf())

    def _credentials(self) -> None:
        assert self.layout is not None
        devcluster = self.cluster.bin_dir / "devcluster"
        for who, (user, group) in IDENTITIES.items():
            cmd = [str(devcluster), "credentials", "--dir", str(self.cluster.state_dir)]
            cmd += ["--user", user, "--group", group, "--out", str(self.layout.kubeconfig(who))]
            _run(cmd)

    def _manifests(self) -> list[Path]:
        return [
            REALNODE_DIR / "rbac.yaml",
            REALNODE_DIR / "storage" / "manifests.yaml",
            REALNODE_DIR / "networkpolicy" / "rbac.yaml",
        ]

    def _start_namespace(self) -> None:
        """A mount namespace of the node's own: its /run and /var/log are
        tmpfs, and files holding the host's values hide the sysctls the
        kubelet would change. It lives as long as its holder process."""
        mounts = ["mount -t tmpfs -o mode=755 urumi-run /run", "mount -t tmpfs urumi-log /var/log"]
        for name in cfg.MASKED_SYSCTLS:
            copy = self.state_dir / "sysctl" / name.replace("/", ".")
            copy.write_text(Path("/proc/sys", name).read_text())
            mounts.append(f"mount --bind {copy} /proc/sys/{name}")
        mounts.append(f"mkdir -p {cfg.RUN_DIR}")
        script = " && ".join(mounts) + " && exec sleep infinity"
        cmd = ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script]
        self._holder = self._spawn("namespace", cmd)
        if self.host_before is not None:
            recorded = msgspec.structs.replace(self.host_before, holder_pid=self._holder.proc.pid)
            HOST_STATE.write_bytes(msgspec.json.encode(recorded))
        self._wait(lambda: self._ns_ready(), 10, "the node's mount namespace")

    def _ns_ready(self) -> bool:
        assert self._holder is not None
        self._holder.check()
        probe = self._in_ns(["test", "-d", str(cfg.RUN_DIR)])
        return subprocess.run(probe, capture_output=True, check=False).returncode == 0

    def _in_ns(self, cmd: list[str]) -> list[str]:
        assert self._holder is not None
        return ["nsenter", "--target", str(self._holder.proc.pid), "--mount", "--", *cmd]

    def _start_containerd(self, layout: cfg.NodeLayout, images: list[Path]) -> None:
        config = str(self.state_dir / "containerd.toml")
        self._spawn("containerd", self._in_ns(["containerd", "--config", config]))
        sock = str(layout.containerd_socket)
        self._wait(
            lambda: (
                subprocess.run(
                    self._in_ns(["ctr", "-a", sock, "version"]), capture_output=True, check=False
                ).returncode
                == 0
            ),
            30,
            "containerd",
        )
        for tar in images:
            import_cmd = ["ctr", "-a", sock, "-n", "k8s.io", "images", "import", str(tar)]
            _run(self._in_ns(import_cmd), timeout=600)

    def _start_kubelet(self, layout: cfg.NodeLayout) -> None:
        assert self.bin_dir is not None
        cmd = [
            str(self.bin_dir / "kubelet"),
            f"--config={self.state_dir / 'kubelet.yaml'}",
            f"--kubeconfig={layout.kubeconfig('kubelet')}",
            f"--root-dir={self.state_dir / 'kubelet'}",
            f"--cert-dir={self.state_dir / 'kubelet' / 'pki'}",
            f"--hostname-override={cfg.NODE_NAME}",
            f"--node-ip={cfg.NODE_IP}",
            f"--node-labels={cfg.NODE_LABEL[0]}={cfg.NODE_LABEL[1]}",
            "--v=1",
        ]
        self._spawn("kubelet", self._in_ns(cmd))

    def _start_services(self, layout: cfg.NodeLayout) -> None:
        assert self.bin_dir is not None
        b = self.bin_dir
        proxy = [str(b / "kube-proxy"), f"--config={self.state_dir / 'kube-proxy.yaml'}"]
        self._spawn("kube-proxy", self._in_ns(proxy))
        self._spawn("coredns", [str(b / "coredns"), "-conf", str(self.state_dir / "Corefile")])
        self._spawn(
            "traefik",
            [str(b / "traefik"), *cfg.traefik_args(layout)],
            env={"KUBECONFIG": str(layout.kubeconfig("traefik"))},
        )
        storage = REALNODE_DIR / "storage" / "run-provisioner.sh"
        self._spawn(
            "local-path",
            [
                "sh",
                str(storage),
                str(b / "local-path-provisioner"),
                str(layout.kubeconfig("local-path")),
                str(layout.volumes_dir),
                str(self.state_dir / "local-path"),
            ],
            env={"NODE_NAME": cfg.NODE_NAME, "HEALTH_PORT": str(layout.storage_health_port)},
        )
        checks = {
            "kube-proxy": f"http://127.0.0.1:{layout.proxy_healthz_port}/healthz",
            "coredns": f"http://127.0.0.1:{layout.dns_ready_port}/ready",
            "traefik": f"http://127.0.0.1:{layout.ingress_ping_port}/ping",
        }
        for name, url in checks.items():
            self._wait(lambda u=url: _http_ok(u), 60, name)  # type: ignore[misc]
        self._start_policies(layout)

    def _start_policies(self, layout: cfg.NodeLayout) -> None:
        """kube-router's firewall enforces the NetworkPolicies; the node is
        ready for stores once its first full sync has written the tail rule."""
        assert self.bin_dir is not None
        cmd = [str(self.bin_dir / "kube-router"), *cfg.kube_router_args(layout)]
        self._spawn("kube-router", self._in_ns(cmd))
        health = f"http://127.0.0.1:{layout.router_health_port}/healthz"
        self._wait(lambda: _http_ok(health), 60, "kube-router")
        self._wait(_policies_synced, 120, "kube-router's first policy sync")

    # -- helpers -------------------------------------------------------------
    def _spawn(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> _Process:
        proc = _Process(name, cmd, self.state_dir / "logs" / f"{name}.log", env)
        if name != "namespace":
            self._procs.append(proc)
        return proc

    def _wait(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for proc in self._procs:
                proc.check()
            with contextlib.suppress(OSError, DevClusterError, ValueError):
                if ready():
                    return
            time.sleep(0.5)
        raise RealNodeError(f"{what} not ready after {timeout:.0f}s; logs in {self.state_dir}/logs")

    def _node_ready(self) -> bool:
        status, body = self.cluster.request(f"/api/v1/nodes/{cfg.NODE_NAME}")
        if status != 200:
            return False
        conditions = json.loads(body).get("status", {}).get("conditions", [])
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

    def _stop_named(self, name: str) -> None:
        for proc in self._procs:
            if proc.name == name:
                proc.stop()

    def _remove_pods(self) -> None:
        """Stop and remove every pod through CRI, so the CNI plugin releases
        its addresses, veths and chains before containerd goes."""
        if self._holder is None or self.bin_dir is None or self.layout is None:
            return
        if any(p.name == "containerd" and p.alive() for p in self._procs):
            with contextlib.suppress(RealNodeError, subprocess.TimeoutExpired):
                self.crictl("rmp", "--force", "--all")

    def _kill_namespace(self) -> None:
        """Whatever is left of the node: containers, shims, the programs in
        its namespace, the host processes, and the namespace's holder."""
        state = _saved_host_state()
        markers = [str(cfg.RUN_DIR), str(self.state_dir)]
        holder = self._holder.proc.pid if self._holder else 0
        if state is not None:
            markers.append(state.state_dir)
            holder = holder or state.holder_pid
        victims = set(_pod_processes()) | {pid for pid, _ in _node_processes(markers)}
        victims |= set(_same_mount_namespace(holder))
        for pid in victims - {os.getpid()}:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self._holder is not None:
            self._holder.proc.wait()
            self._holder = None


# -- host ------------------------------------------------------------------------
def _preflight() -> None:
    if os.geteuid() != 0:
        raise RealNodeError("the real node needs root (it runs containerd and a kubelet)")
    if host.pod_cgroups() and not HOST_STATE.exists():
        raise RealNodeError(
            "another kubelet runs on this machine (kubepods cgroups exist): "
            "the real node needs the machine to itself"
        )
    missing = [t for t in SYSTEM_TOOLS if shutil.which(t) is None]
    if missing or not Path("/usr/lib/cni/bridge").exists():
        raise RealNodeError(
            f"missing {', '.join(missing) or '/usr/lib/cni/bridge'}: run scripts/system-deps.sh"
        )


def _take_lock() -> IO[str]:
    LOCK_PATH.parent.mkdir(parents=True, exist_ok=True)
    lock = LOCK_PATH.open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise RealNodeError(
            f"another real node runs on this machine (lock {LOCK_PATH}): stop it first"
        ) from None
    return lock


def _tables() -> Iterator[tuple[str, str]]:
    for tool in ("iptables", "ip6tables"):
        for table in ("filter", "nat", "mangle"):
            yield tool, table


def _prepare_host(state_dir: Path) -> host.HostState:
    """Record the host, then add the bridge, the FORWARD guard and ip_forward."""
    chains = {
        f"{tool}:{table}": host.chains_in(_run([f"{tool}-save", "-t", table], check=False))
        for tool, table in _tables()
    }
    state = host.HostState(
        ip_forward=host.IP_FORWARD.read_text().strip(),
        chains=chains,
        had_var_lib_cni=Path("/var/lib/cni").exists(),
        state_dir=str(state_dir),
        ipsets=_ipsets(),
    )
    HOST_STATE.write_bytes(msgspec.json.encode(state))
    _run(["ip", "link", "add", cfg.BRIDGE, "type", "bridge"])
    _run(["ip", "addr", "add", f"{cfg.NODE_IP}/24", "dev", cfg.BRIDGE])
    _run(["ip", "link", "set", cfg.BRIDGE, "up"])
    # In mangle: it runs before the filter table, where kube-proxy and
    # kube-router accept what their rules allow and keep their jumps first.
    _run(["iptables", "-t", "mangle", "-N", host.GUARD_CHAIN])
    for rule in host.guard_rules(cfg.BRIDGE, cfg.POD_CIDR):
        _run(["iptables", "-t", "mangle", *rule])
    _run(["iptables", "-t", "mangle", "-I", "FORWARD", "1", "-j", host.GUARD_CHAIN])
    host.IP_FORWARD.write_text("1")
    return state


def _ipsets() -> list[str]:
    return _run(["ipset", "list", "-n"], check=False).split()


def _policies_synced() -> bool:
    rules = _run(["iptables", "-w", "-S", "KUBE-ROUTER-FORWARD"], check=False)
    return bool(rules) and rules.strip().splitlines()[-1].endswith("KUBE-NWPLCY-TAIL")


def _restore_host() -> None:
    state = _saved_host_state()
    if state is None:
        return
    with contextlib.suppress(RealNodeError):
        _run(["ip", "link", "del", cfg.BRIDGE], check=False)
        for name in _veths_on_bridge():
            _run(["ip", "link", "del", name], check=False)
    for tool, table in _tables():
        text = _run([f"{tool}-save", "-t", table], check=False)
        keep = state.chains.get(f"{tool}:{table}", [])
        for args in host.sweep_commands(text, keep):
            _run([tool, "-w", "-t", table, *args], check=False)
    for name in host.node_ipsets(_ipsets(), keep=state.ipsets):
        _run(["ipset", "destroy", name], check=False)
    host.IP_FORWARD.write_text(state.ip_forward)
    for cgroup in host.pod_cgroups():
        _remove_cgroup_tree(cgroup)
    if not state.had_var_lib_cni:
        shutil.rmtree("/var/lib/cni", ignore_errors=True)
    HOST_STATE.unlink()


def _remove_cgroup_tree(root: Path) -> None:
    for dirpath, _, _ in sorted(os.walk(root), key=lambda w: -len(w[0])):
        with contextlib.suppress(OSError):
            os.rmdir(dirpath)


def _veths_on_bridge() -> list[str]:
    net = Path("/sys/class/net")
    return sorted(
        p.name
        for p in net.iterdir()
        if (p / "master").exists() and (p / "master").resolve().name == cfg.BRIDGE
    )


def _pod_processes() -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                if f"/{host.POD_CGROUP}" in (proc / "cgroup").read_text():
                    pids.append(int(proc.name))
    return pids


def _node_processes(markers: list[str]) -> list[tuple[int, str]]:
    """Processes whose command line names the node's paths."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            cmdline = (proc / "cmdline").read_bytes()
            if host.names_any(cmdline, markers):
                found.append((int(proc.name), cmdline.replace(b"\0", b" ").decode()[:120]))
    return found


def _same_mount_namespace(pid: int) -> list[int]:
    """Every process in the mount namespace of ``pid`` (none if it is the host's)."""
    try:
        ns = os.readlink(f"/proc/{pid}/ns/mnt") if pid else ""
    except OSError:
        return []
    if not ns or ns == os.readlink("/proc/self/ns/mnt"):
        return []
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                if os.readlink(proc / "ns" / "mnt") == ns:
                    found.append(int(proc.name))
    return found


def _saved_host_state() -> host.HostState | None:
    if not HOST_STATE.exists():
        return None
    return msgspec.json.decode(HOST_STATE.read_bytes(), type=host.HostState)


def _http_ok(url: str) -> bool:
    with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310
        return bool(resp.status == 200)
    return False
