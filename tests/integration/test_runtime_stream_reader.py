"""The stream reader on a real nats-server: what it reads, where it stops, and
that it leaves no consumer behind."""

from contextlib import aclosing
from datetime import UTC, datetime

from nats.js import JetStreamContext

from services.contracts import subjects, wire
from services.contracts.events import StoreStatus
from services.contracts.phases import Phase
from services.contracts.streams import EVENTS
from services.contracts.subjects import EventKind
from services.runtime.stream_reader import last_statuses, read_stream


async def publish(js: JetStreamContext, store: str, phase: Phase) -> int:
    status = StoreStatus("acme", store, phase, 1, datetime.now(UTC))
    subject = subjects.event_subject("acme", store, EventKind.STATUS)
    return (await js.publish(subject, wire.encode(status))).seq


async def consumers(js: JetStreamContext) -> int:
    return (await js.stream_info(EVENTS.name)).state.consumer_count


async def test_last_per_subject_up_to_a_cut(js: JetStreamContext) -> None:
    statuses = subjects.tenant_statuses("acme")
    assert await last_statuses(js, EVENTS.name, statuses) == []
    await publish(js, "one", Phase.PENDING)
    cut = await publish(js, "two", Phase.PROVISIONING)
    await publish(js, "one", Phase.READY)
    newest = {s.store: s.phase for s in await last_statuses(js, EVENTS.name, statuses)}
    assert newest == {"one": Phase.READY, "two": Phase.PROVISIONING}
    # "one"'s last message lies past the cut: the feed after the cut delivers it.
    upto = {s.store: s.phase for s in await last_statuses(js, EVENTS.name, statuses, cut)}
    assert upto == {"two": Phase.PROVISIONING}
    assert await consumers(js) == 0


async def test_from_a_start_through_upto(js: JetStreamContext) -> None:
    seqs = [await publish(js, "one", phase) for phase in (Phase.PENDING, Phase.READY)]
    seqs += [await publish(js, "two", Phase.READY)]
    reader = read_stream(js, EVENTS.name, "urumi.evt.acme.>", start=seqs[1], upto=seqs[2])
    async with aclosing(reader) as msgs:
        got = [msg.metadata.sequence.stream async for msg in msgs]
    assert got == seqs[1:]
    assert await consumers(js) == 0


async def test_leaving_early_deletes_the_consumer(js: JetStreamContext) -> None:
    for store in ("one", "two", "three"):
        await publish(js, store, Phase.READY)
    async with aclosing(read_stream(js, EVENTS.name, "urumi.evt.>", start=1)) as msgs:
        async for _ in msgs:
            break
    assert await consumers(js) == 0
