"""The real node's changes to the host: recorded before it starts, swept after.

The node runs in the host's network namespace, so it adds a bridge, iptables
chains, ipsets and cgroups there (``realnode_host`` parses and decides; this
module runs the commands). ``prepare`` records the host in ``HOST_STATE``;
``restore`` puts it back, also after a crash; ``leftovers`` lists what is
still there.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import msgspec

from services.devtools import realnode_config as cfg
from services.devtools import realnode_host as host

HOST_STATE = Path("/run/urumi-realnode.host.json")


class RealNodeError(RuntimeError):
    """The real node could not be built, started or cleaned; the message says what to do."""


def run(cmd: list[str], *, check: bool = True, timeout: float = 120.0) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise RealNodeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def leftovers(state_dir: Path, before: host.HostState | None) -> list[str]:
    """What the node would have left on the host (empty when clean)."""
    found = [f"cgroup {p}" for p in host.pod_cgroups()]
    for tool, table in tables():
        text = run([f"{tool}-save", "-t", table], check=False)
        found += [
            f"{tool} {table} chain {c}"
            for c in host.chains_in(text)
            if c.startswith(host.NODE_CHAIN_PREFIXES)
        ]
    kept = before.ipsets if before else []
    found += [f"ipset {name}" for name in host.node_ipsets(ipsets(), keep=kept)]
    if Path(f"/sys/class/net/{cfg.BRIDGE}").exists():
        found.append(f"bridge {cfg.BRIDGE}")
    found += [f"veth {n}" for n in veths_on_bridge()]
    mounts = Path("/proc/self/mounts").read_text()
    found += [f"mount {m}" for m in host.mounts_under(mounts, [str(state_dir)])]
    markers = [str(cfg.RUN_DIR), str(state_dir)]
    found += [f"process {pid} {cmd}" for pid, cmd in node_processes(markers)]
    if HOST_STATE.exists():
        found.append(f"host state {HOST_STATE} (not restored)")
    forward = host.IP_FORWARD.read_text().strip()
    if before is not None and forward != before.ip_forward:
        found.append(f"ip_forward {forward} (was {before.ip_forward})")
    return found


def tables() -> Iterator[tuple[str, str]]:
    for tool in ("iptables", "ip6tables"):
        for table in ("filter", "nat", "mangle"):
            yield tool, table


def prepare(state_dir: Path) -> host.HostState:
    """Record the host, then add the bridge, the FORWARD guard and ip_forward."""
    chains = {
        f"{tool}:{table}": host.chains_in(run([f"{tool}-save", "-t", table], check=False))
        for tool, table in tables()
    }
    state = host.HostState(
        ip_forward=host.IP_FORWARD.read_text().strip(),
        chains=chains,
        had_var_lib_cni=Path("/var/lib/cni").exists(),
        state_dir=str(state_dir),
        ipsets=ipsets(),
    )
    HOST_STATE.write_bytes(msgspec.json.encode(state))
    run(["ip", "link", "add", cfg.BRIDGE, "type", "bridge"])
    run(["ip", "addr", "add", f"{cfg.NODE_IP}/24", "dev", cfg.BRIDGE])
    run(["ip", "link", "set", cfg.BRIDGE, "up"])
    # In mangle: it runs before the filter table, where kube-proxy and
    # kube-router accept what their rules allow and keep their jumps first.
    run(["iptables", "-t", "mangle", "-N", host.GUARD_CHAIN])
    for rule in host.guard_rules(cfg.BRIDGE, cfg.POD_CIDR):
        run(["iptables", "-t", "mangle", *rule])
    run(["iptables", "-t", "mangle", "-I", "FORWARD", "1", "-j", host.GUARD_CHAIN])
    host.IP_FORWARD.write_text("1")
    return state


def ipsets() -> list[str]:
    return run(["ipset", "list", "-n"], check=False).split()


def policies_synced() -> bool:
    rules = run(["iptables", "-w", "-S", "KUBE-ROUTER-FORWARD"], check=False)
    return bool(rules) and rules.strip().splitlines()[-1].endswith("KUBE-NWPLCY-TAIL")


def restore() -> None:
    state = saved_state()
    if state is None:
        return
    with contextlib.suppress(RealNodeError):
        run(["ip", "link", "del", cfg.BRIDGE], check=False)
        for name in veths_on_bridge():
            run(["ip", "link", "del", name], check=False)
    for tool, table in tables():
        text = run([f"{tool}-save", "-t", table], check=False)
        keep = state.chains.get(f"{tool}:{table}", [])
        for args in host.sweep_commands(text, keep):
            run([tool, "-w", "-t", table, *args], check=False)
    for name in host.node_ipsets(ipsets(), keep=state.ipsets):
        run(["ipset", "destroy", name], check=False)
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


def veths_on_bridge() -> list[str]:
    net = Path("/sys/class/net")
    return sorted(
        p.name
        for p in net.iterdir()
        if (p / "master").exists() and (p / "master").resolve().name == cfg.BRIDGE
    )


def pod_processes() -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                if f"/{host.POD_CGROUP}" in (proc / "cgroup").read_text():
                    pids.append(int(proc.name))
    return pids


def node_processes(markers: list[str]) -> list[tuple[int, str]]:
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


def same_mount_namespace(pid: int) -> list[int]:
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


def saved_state() -> host.HostState | None:
    if not HOST_STATE.exists():
        return None
    return msgspec.json.decode(HOST_STATE.read_bytes(), type=host.HostState)
