"""A live store moves to a bigger plan through the API: compute grows, the volumes
and the data on them stay, the credentials stay, and the store is ready again."""

from kubernetes_asyncio.client import ApiClient, AppsV1Api, BatchV1Api, CoreV1Api

from services.contracts import streams
from services.contracts.events import StepState, StoreStatus
from services.contracts.ids import namespace_for
from services.contracts.phases import Phase
from services.contracts.store import Plan
from services.contracts.subjects import EventKind, event_subject
from services.contracts.wire import decode_event
from services.provisioner.values import PLANS
from tests.e2e.conftest import Launch
from tests.faults.platform import PlatformHarness, new_id, progress_events, stream_messages
from tests.fixtures.waiting import eventually


async def test_a_live_store_changes_plan_and_keeps_its_volumes(
    launch: Launch, kube: ApiClient
) -> None:
    p = await launch()
    store = new_id("grow")
    await p.create(store, plan="small")
    await p.wait_phase([store], "ready", within=180)
    ns = namespace_for(store)
    core, apps = CoreV1Api(kube), AppsV1Api(kube)

    async def claims() -> dict[str, str]:
        found = (await core.list_namespaced_persistent_volume_claim(ns)).items
        return {c.metadata.name: c.metadata.uid for c in found}

    async def setup_jobs() -> dict[str, str]:
        found = (await BatchV1Api(kube).list_namespaced_job(ns)).items
        return {j.metadata.name: j.metadata.uid for j in found}

    before, setup = await claims(), await setup_jobs()

    changed = await p.update(store, plan="medium")
    assert (changed["phase"], changed["generation"], changed["storage_plan"]) == (
        "provisioning",
        2,
        "small",
    )

    async def ready_again() -> dict[str, object] | None:
        view = await p.store(store)
        return view if (view["phase"], view["generation"]) == ("ready", 2) else None

    await eventually(ready_again, 180, interval=0.5, what=f"{store} ready at generation 2")
    medium, small = PLANS[Plan.MEDIUM], PLANS[Plan.SMALL]
    quota = await core.read_namespaced_resource_quota("store-quota", ns)
    assert quota.spec.hard["limits.cpu"] == medium.quota_cpu_limits
    assert quota.spec.hard["requests.storage"] == small.quota_storage
    database = await apps.read_namespaced_stateful_set("mariadb", ns)
    assert database.spec.template.spec.containers[0].resources.to_dict() == {
        **medium.database.resources(),
        "claims": None,
    }
    [template] = database.spec.volume_claim_templates
    assert template.spec.resources.requests["storage"] == small.database_storage
    assert await claims() == before, "volumes were replaced"
    assert await setup_jobs() == setup, "the finished setup ran again"
    assert len(p.secrets.versions.get(ns, set())) == 1, "credentials changed"

    events = await progress_events(p.js, p.tenant)
    provisioned = [e for e in events if (e.store, e.step) == (store, "provision")]
    assert [e.generation for e in provisioned if e.state == StepState.SUCCEEDED] == [1, 2]
    # Generation 2 is judged on its own objects: no `ready` for the old pods, then
    # `degraded` while they roll.
    phases = [s.phase for s in await statuses(p, store) if s.generation == 2]
    assert Phase.DEGRADED not in phases and phases[-1] == Phase.READY, phases


async def statuses(p: PlatformHarness, store: str) -> list[StoreStatus]:
    found = []
    for m in await stream_messages(p.js, streams.EVENTS.name):
        if m.subject == event_subject(p.tenant, store, EventKind.STATUS):
            event = decode_event(m.data)
            assert isinstance(event, StoreStatus)
            found.append(event)
    return found
