"""What the real node changes on the host, and how it is put back.

The node runs in the host's network namespace (the kubelet, kube-proxy and
Traefik must reach the devcluster on loopback), so it adds a bridge, iptables
chains and cgroups there. Everything it adds is recorded before it starts
(``HostState``) and removed when it stops, or at the next start after a crash.
The parsing is pure and unit-tested; the commands run in ``realnode.py``.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from pathlib import Path

import msgspec

#: Chains the kubelet, kube-proxy, the CNI plugins and the node's own guard add.
NODE_CHAIN_PREFIXES = ("KUBE-", "CNI-", "URUMI-")
GUARD_CHAIN = "URUMI-NODE-FORWARD"
#: The sets kube-router's firewall makes (by its naming; never every set).
NODE_IPSET = re.compile(
    r"(inet6:)?(KUBE-(SRC|DST)-[A-Z2-7]{16}|TMP-[A-Z2-7]{16}|kube-router-local-pods)"
)
CGROUP_ROOT = Path("/sys/fs/cgroup")
POD_CGROUP = "kubepods"
IP_FORWARD = Path("/proc/sys/net/ipv4/ip_forward")


class HostState(msgspec.Struct, frozen=True):
    """The host before the node started: what stopping must restore."""

    ip_forward: str
    chains: dict[str, list[str]]  # "iptables:nat" -> chain names present before
    had_var_lib_cni: bool
    state_dir: str  # the node's: its processes name it on their command lines
    holder_pid: int = 0  # the process that keeps the node's mount namespace
    ipsets: list[str] = []  # ipset names present before


def chains_in(save_text: str) -> list[str]:
    """Chain names declared in one table of ``iptables-save`` output."""
    return [line[1:].split()[0] for line in save_text.splitlines() if line.startswith(":")]


def sweep_commands(save_text: str, keep: Iterable[str]) -> list[list[str]]:
    """Arguments (after ``iptables -t TABLE``) that remove the node's chains.

    Rules jumping into a node chain from a chain we keep are deleted first,
    then every node chain is flushed, then deleted (a chain still referenced
    cannot be deleted, so the flushes of all come before any delete).
    """
    kept = set(keep)
    ours = [c for c in chains_in(save_text) if c.startswith(NODE_CHAIN_PREFIXES) and c not in kept]
    doomed = set(ours)
    commands: list[list[str]] = []
    for line in save_text.splitlines():
        if not line.startswith("-A "):
            continue
        rule = shlex.split(line)
        chain, target = rule[1], _jump_target(rule)
        if chain not in doomed and target in doomed:
            commands.append(["-D", *rule[1:]])
    commands += [["-F", c] for c in ours]
    commands += [["-X", c] for c in ours]
    return commands


def _jump_target(rule: list[str]) -> str:
    for flag in ("-j", "-g", "--jump", "--goto"):
        if flag in rule and rule.index(flag) + 1 < len(rule):
            return rule[rule.index(flag) + 1]
    return ""


def guard_rules(bridge: str, pod_cidr: str) -> list[list[str]]:
    """FORWARD rules of the guard chain: pods may talk to each other through
    the host (Service traffic is routed back onto the bridge), and to nothing
    else, so turning on ip_forward opens no way off this machine."""
    return [
        ["-A", GUARD_CHAIN, "-i", bridge, "-o", bridge, "-j", "ACCEPT"],
        ["-A", GUARD_CHAIN, "-s", pod_cidr, "-j", "DROP"],
        ["-A", GUARD_CHAIN, "-d", pod_cidr, "-j", "DROP"],
    ]


def pod_cgroups(root: Path = CGROUP_ROOT) -> list[Path]:
    """Every ``kubepods`` cgroup directory, one per mounted hierarchy."""
    if not root.is_dir():
        return []
    found = [h / POD_CGROUP for h in root.iterdir() if (h / POD_CGROUP).is_dir()]
    return sorted(found)


def mounts_under(mountinfo: str, prefixes: Iterable[str]) -> list[str]:
    """Mount points (from /proc/self/mounts text) below any of ``prefixes``."""
    roots = tuple(p.rstrip("/") + "/" for p in prefixes)
    points = [line.split()[1] for line in mountinfo.splitlines() if len(line.split()) > 1]
    return [p for p in points if (p.rstrip("/") + "/").startswith(roots)]


def names_any(cmdline: bytes, markers: Iterable[str]) -> bool:
    """Whether a /proc/PID/cmdline (NUL-separated) mentions any marker path."""
    text = cmdline.replace(b"\0", b" ").decode(errors="replace")
    return any(m in text for m in markers)


def node_ipsets(names: Iterable[str], keep: Iterable[str]) -> list[str]:
    """The ipsets kube-router added (by its naming), minus those present before."""
    kept = set(keep)
    return [n for n in names if NODE_IPSET.fullmatch(n) and n not in kept]
