"""A WooCommerce store's tiers on the real node, seen from outside: WordPress
through the ingress by host name, the containers' processes through crictl.

The setup Job (wp-cli, the WooCommerce plugin) cannot run here: nothing can
fetch them. The shop owner's first step in WordPress's own installer stands in
for its `wp core install`, so the test proves PHP, Apache and MariaDB working
together, not the WooCommerce steps (deploy/kind/smoke.sh proves those).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
from dataclasses import dataclass, field

from nats.aio.client import Client
from nats.aio.msg import Msg

from services.contracts.events import StoreStatus
from services.contracts.subjects import EventKind, event_subject
from services.contracts.wire import decode_event
from services.devtools.realnode import RealNode
from tests.fixtures.waiting import eventually
from tests.realnode.shopper import Storefront

INSTALLER = "/wp-admin/install.php"


async def install(front: Storefront, title: str, user: str, password: str, email: str) -> None:
    """Run WordPress's installer as the shop owner would, through the ingress."""
    form = {
        "weblog_title": title,
        "user_name": user,
        "admin_password": password,
        "admin_password2": password,
        "admin_email": email,
        "blog_public": "0",
        "language": "",
    }
    await routed(front)
    async with front.client() as http:
        answer = await http.post(f"{INSTALLER}?step=2", data=form)
    assert answer.status_code == 200 and "Success!" in answer.text, answer.text[:1000]


async def routed(front: Storefront, within: float = 30.0) -> None:
    """Until the ingress controller routes to the store: it follows a ready
    endpoint a moment after Kubernetes has it (503 "no available server" till then)."""

    async def answered() -> bool:
        async with front.client() as http:
            page = await http.get(INSTALLER)
        return page.status_code != 503

    await eventually(answered, within=within, what="the ingress routing to the store")


async def served_title(front: Storefront) -> str:
    """The home page's <title>; "" while the shop does not serve it (WordPress
    not installed, no database, or the ingress without a ready endpoint)."""
    async with front.client() as http:
        page = await http.get("/")
    found = re.search(r"<title>(.*?)</title>", page.text, re.S)
    return found.group(1).strip() if page.status_code == 200 and found else ""


async def serves(front: Storefront, title: str, within: float = 30.0) -> bool:
    """Whether the home page shows `title` within `within` s: the ingress
    controller follows a ready endpoint a moment after Kubernetes has it."""

    async def shown() -> bool:
        return await served_title(front) == title

    try:
        await eventually(shown, within=within, interval=0.5, what=f"home page titled {title}")
    except AssertionError:
        return False
    return True


@dataclass
class ProcessFacts:
    """What the kernel says about a container's main process (PID 1)."""

    uids: set[int]
    caps: dict[str, int]  # CapEff, CapPrm, CapBnd
    no_new_privs: bool
    seccomp_filtered: bool
    root_write_error: str  # why writing to / failed ("" if it did not)


def process_facts(node: RealNode, namespace: str, pod: str, container: str) -> ProcessFacts:
    done = node.run_in(
        namespace, pod, container, "sh", "-c", "cat /proc/1/status; touch /urumi-write-probe"
    )
    status = dict(line.split(":", 1) for line in done.stdout.splitlines() if ":" in line)
    return ProcessFacts(
        uids={int(v) for v in status["Uid"].split()},
        caps={k: int(status[k], 16) for k in ("CapEff", "CapPrm", "CapBnd")},
        no_new_privs=status["NoNewPrivs"].strip() == "1",
        seccomp_filtered=status["Seccomp"].strip() == "2",
        root_write_error=done.stderr.strip() if done.returncode else "",
    )


def kill_container(node: RealNode, namespace: str, pod: str, container: str) -> None:
    """SIGKILL a container's main process from the host: a crash, not a stop."""
    found = node.crictl(
        "ps",
        "--label",
        f"io.kubernetes.pod.namespace={namespace}",
        "--label",
        f"io.kubernetes.pod.name={pod}",
        "--name",
        container,
        "-q",
    ).split()
    assert found, f"no running container {container} in {namespace}/{pod}"
    pid = node.crictl("inspect", "-o", "go-template", "--template", "{{.info.pid}}", found[0])
    os.kill(int(pid), signal.SIGKILL)


@dataclass
class Phases:
    """Every status the watcher publishes for one store, in order."""

    seen: list[str] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def follow(self, nc: Client, tenant: str, store: str) -> Phases:
        await nc.subscribe(event_subject(tenant, store, EventKind.STATUS), cb=self._on)
        return self

    async def _on(self, msg: Msg) -> None:
        event = decode_event(msg.data)
        if isinstance(event, StoreStatus):
            self.seen.append(event.phase.value)
            self.changed.set()

    async def sequence(self, after: int, wanted: list[str], within: float) -> None:
        """Wait until ``wanted`` appears, in order, among the phases after index ``after``."""

        async def until() -> None:
            while not _in_order(self.seen[after:], wanted):
                self.changed.clear()
                await self.changed.wait()

        try:
            await asyncio.wait_for(until(), within)
        except TimeoutError:
            raise AssertionError(
                f"phases {wanted} not seen in order: {self.seen[after:]}"
            ) from None


def _in_order(phases: list[str], wanted: list[str]) -> bool:
    rest = iter(phases)
    return all(any(p == w for p in rest) for w in wanted)
