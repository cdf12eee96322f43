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
from collections.abc import Callable
from pathlib import Path
from typing import IO

import msgspec

from services.devtools import realnode_config as cfg
from services.devtools import realnode_host as host
from services.devtools import realnode_sweep as sweep
from services.devtools.devcluster import REPO_ROOT, DevCluster, DevClusterError
from services.devtools.kubeapply import apply_manifests
from services.devtools.natsserver import free_port
from services.devtools.realnode_sweep import RealNodeError

__all__ = ["RealNode", "RealNodeError"]

REALNODE_DIR = REPO_ROOT / "deploy" / "realnode"
BUILD_TIMEOUT = 90 * 60.0
LOCK_PATH = Path("/run/lock/urumi-realnode.lock")
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
        if sweep.HOST_STATE.exists():
            sweep.restore()
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
        return sweep.leftovers(self.state_dir, self.host_before)

    def crictl(self, *args: str) -> str:
        """crictl against the node's containerd (inside its mount namespace)."""
        return sweep.run(self._crictl_argv(*args), timeout=60)

    def provisioner_env(self, directory: Path) -> dict[str, str]:
        """Write the operator values that put stores on this node into
        `directory`; the provisioner settings that use them (and Traefik)."""
        directory.mkdir(parents=True, exist_ok=True)
        for name, values in cfg.store_values().items():
            (directory / name).write_text(cfg.to_yaml(values))
        return {
            "URUMI_STORE_VALUES_DIR": str(directory.resolve()),
            "URUMI_INGRESS_CLASS": cfg.INGRESS_CLASS,
            "URUMI_STORE_PORT": str(self.ingress_port),
        }

    def exec(self, namespace: str, pod: str, container: str, *cmd: str) -> int:
        """Run ``cmd`` in a running container of a pod on the node; its exit code."""
        return self.run_in(namespace, pod, container, *cmd).returncode

    def run_in(
        self, namespace: str, pod: str, container: str, *cmd: str
    ) -> subprocess.CompletedProcess[str]:
        """Run ``cmd`` in a running container of a pod on the node; its output."""
        labels = [f"io.kubernetes.pod.namespace={namespace}", f"io.kubernetes.pod.name={pod}"]
        found = self.crictl(
            "ps", "--label", labels[0], "--label", labels[1], "--name", container, "-q"
        )
        if not found.split():
            raise RealNodeError(f"no running container {container} in pod {namespace}/{pod}")
        argv = self._crictl_argv("exec", found.split()[0], *cmd)
        return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)

    def _crictl_argv(self, *args: str) -> list[str]:
        assert self.bin_dir is not None, "start() first"
        assert self.layout is not None, "start() first"
        endpoint = f"unix://{self.layout.containerd_socket}"
        return self._in_ns([str(self.bin_dir / "crictl"), "--runtime-endpoint", endpoint, *args])

    # -- start ---------------------------------------------------------------
    def _start(self, timeout: float) -> None:
        if sweep.HOST_STATE.exists():  # a previous node on this machine did not stop cleanly
            self._kill_namespace()
            sweep.restore()
        self.bin_dir = Path(_build(REALNODE_DIR / "build.sh")[-1])
        images = [line.split(maxsplit=1) for line in _build(REALNODE_DIR / "images" / "build.sh")]
        self.layout = self._layout(dict((ref, path) for ref, path in images))
        self._write_configs(self.layout)
        self._credentials()
        apply_manifests(self.cluster, self._manifests())
        self.host_before = sweep.prepare(self.state_dir)
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
            sweep.run(cmd)

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
            sweep.HOST_STATE.write_bytes(msgspec.json.encode(recorded))
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
            sweep.run(self._in_ns(import_cmd), timeout=600)

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
        self._wait(sweep.policies_synced, 120, "kube-router's first policy sync")

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
        state = sweep.saved_state()
        markers = [str(cfg.RUN_DIR), str(self.state_dir)]
        holder = self._holder.proc.pid if self._holder else 0
        if state is not None:
            markers.append(state.state_dir)
            holder = holder or state.holder_pid
        victims = set(sweep.pod_processes()) | {pid for pid, _ in sweep.node_processes(markers)}
        victims |= set(sweep.same_mount_namespace(holder))
        for pid in victims - {os.getpid()}:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self._holder is not None:
            self._holder.proc.wait()
            self._holder = None


# -- machine ---------------------------------------------------------------------
def _preflight() -> None:
    if os.geteuid() != 0:
        raise RealNodeError("the real node needs root (it runs containerd and a kubelet)")
    if host.pod_cgroups() and not sweep.HOST_STATE.exists():
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


def _http_ok(url: str) -> bool:
    with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310
        return bool(resp.status == 200)
    return False
