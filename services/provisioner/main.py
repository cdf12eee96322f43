"""`urumi provisioner`: consume store commands, answer credentials requests."""

import asyncio
import contextlib
import logging
import os
import shutil
import socket
import uuid

import msgspec

from services.contracts.streams import (
    PROVISIONER,
    PROVISIONER_APPLIED,
    PROVISIONER_GENERATIONS,
    PROVISIONER_LOCKS,
)
from services.provisioner.apply import Applier
from services.provisioner.consumer import CommandConsumer
from services.provisioner.credentials import CredentialsResponder
from services.provisioner.fight import FightLimit
from services.provisioner.locking import Generations, StoreLock
from services.provisioner.progress import Progress
from services.provisioner.provision import Provisioner
from services.provisioner.queue_audit import QueueAudit
from services.provisioner.render import Renderer
from services.provisioner.selfheal import AppliedSpecs, SelfHealer
from services.provisioner.settings import ProvisionerSettings
from services.runtime import bus
from services.runtime.health import Health
from services.runtime.http import health_app, serve
from services.runtime.kube import kube_client

log = logging.getLogger(__name__)


def resolve_renderer(settings: ProvisionerSettings) -> ProvisionerSettings:
    """Fail at start-up, not per store, when the chart renderer is missing."""
    found = shutil.which(settings.render_binary)
    if found is None:
        raise RuntimeError(
            f"urumi-render not found ({settings.render_binary!r}): set URUMI_RENDER_BINARY "
            "(deploy/render/build.sh builds it)"
        )
    return msgspec.structs.replace(settings, render_binary=found)


async def main(settings: ProvisionerSettings, stop: asyncio.Event) -> None:
    settings = resolve_renderer(settings)
    renderer = Renderer(settings.render_binary)
    health = Health()
    server = asyncio.create_task(
        serve(health_app(health), settings.http_host, settings.http_port, stop)
    )
    nc = await bus.connect(settings.nats_url, "provisioner", stop)
    api = await kube_client(settings.kubeconfig)
    try:
        js = nc.jetstream()
        if not await bus.prepare_streams(js, settings, stop):
            return
        await bus.ensure_consumer(js, PROVISIONER)
        locks_kv = await bus.ensure_bucket(js, PROVISIONER_LOCKS, settings.jetstream_replicas)
        generations = Generations(
            await bus.ensure_bucket(js, PROVISIONER_GENERATIONS, settings.jetstream_replicas)
        )
        # Unique per process: a restarted replica must not mistake an old lock for its own.
        owner = f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"
        provisioner = Provisioner(settings, Applier(api), Progress(js), renderer)
        applied = AppliedSpecs(
            await bus.ensure_bucket(js, PROVISIONER_APPLIED, settings.jetstream_replicas)
        )
        healer = SelfHealer(
            provisioner,
            applied,
            FightLimit(settings.selfheal_fight_limit, settings.selfheal_fight_window_s),
        )
        credentials = await CredentialsResponder(api, settings).subscribe(nc)
        consumer = CommandConsumer(
            js,
            provisioner,
            lambda store: StoreLock(locks_kv, store, owner),
            generations,
            settings.provision_concurrency,
            healer,
        )
        health.add("nats", lambda: nc.is_connected)
        health.add("consumer", lambda: consumer.bound)
        log.info(
            "provisioner started",
            extra={"owner": owner, "concurrency": settings.provision_concurrency},
        )
        audit = asyncio.create_task(QueueAudit(js, PROVISIONER).run(stop))
        await consumer.run(stop, settings.shutdown_grace_s)
        await audit
        await credentials.unsubscribe()
    finally:
        stop.set()
        await api.close()
        await renderer.aclose()
        with contextlib.suppress(Exception):
            await nc.drain()
        await server
