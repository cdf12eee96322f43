"""A store's engine release on the devcluster: rendered at its release, upgraded
by the next generation naming another, and an operator's release file honoured."""

from pathlib import Path

import msgspec
from kubernetes_asyncio.client import ApiClient, AppsV1Api, BatchV1Api, CoreV1Api
from nats.js import JetStreamContext

from services.contracts import labels
from services.contracts.commands import CreateStore
from services.contracts.events import StepState
from services.devtools.devcluster import DevCluster
from services.devtools.natsserver import NatsServer
from tests.fixtures.waiting import eventually
from tests.integration import provisioner_support as ps
from tests.integration.provisioner_support import ProgressLog


def at_release(store: str, generation: int, release: str) -> CreateStore:
    cmd = ps.create(store, generation)
    return msgspec.structs.replace(cmd, spec=msgspec.structs.replace(cmd.spec, release=release))


async def provisioned(progress: ProgressLog, store: str, generation: int) -> None:
    await eventually(
        lambda: (
            progress.has(store, "provision", StepState.SUCCEEDED, generation)
            or progress.has(store, "provision", StepState.FAILED, generation)
        ),
        within=90,
        what=f"{store} generation {generation} handled",
    )
    failed = [e.message for e in progress.of(store) if e.state == StepState.FAILED]
    assert not failed, failed


async def web_image(kube: ApiClient, store: str) -> str:
    web = await AppsV1Api(kube).read_namespaced_deployment("wordpress", f"store-{store}")
    image: str = web.spec.template.spec.containers[0].image
    return image


async def release_label(kube: ApiClient, store: str) -> str:
    namespace = await CoreV1Api(kube).read_namespace(f"store-{store}")
    value: str = namespace.metadata.labels[labels.RELEASE]
    return value


async def test_a_new_release_re_renders_the_store_with_its_images_and_a_new_setup_job(
    js: JetStreamContext,
    kube: ApiClient,
    progress: ProgressLog,
    provisioner: None,
    stores: list[str],
) -> None:
    store = ps.store_id()
    stores.append(store)
    await ps.publish(js, at_release(store, 1, "woo-2026.05"))
    await provisioned(progress, store, 1)
    assert await web_image(kube, store) == "wordpress:6.7-php8.3-apache"
    assert await release_label(kube, store) == "woo-2026.05"
    started = [e.message for e in progress.of(store) if e.state == StepState.STARTED]
    assert "applying generation 1 (release woo-2026.05)" in started
    batch = BatchV1Api(kube)
    (old_job,) = (await batch.list_namespaced_job(f"store-{store}")).items

    await ps.publish(js, at_release(store, 2, "woo-2026.11"))
    await provisioned(progress, store, 2)
    assert await web_image(kube, store) == "wordpress:6.8-php8.4-apache"
    assert await release_label(kube, store) == "woo-2026.11"

    async def the_upgrade_job() -> str:
        jobs = (await batch.list_namespaced_job(f"store-{store}")).items
        live = [j for j in jobs if not j.metadata.deletion_timestamp]
        if len(live) != 1 or live[0].metadata.name == old_job.metadata.name:
            return ""
        script: str = live[0].spec.template.spec.containers[0].args[0]
        return script

    # The database updates run as the new release's setup step.
    script = await eventually(the_upgrade_job, within=30, what="the old setup Job pruned")
    assert "wp plugin update woocommerce --version='9.9.5'" in script
    assert "wp wc update" in script and "wp core update-db" in script


async def test_an_operators_release_file_adds_a_release(
    nats_server: NatsServer,
    devcluster: DevCluster,
    js: JetStreamContext,
    kube: ApiClient,
    progress: ProgressLog,
    stores: list[str],
    tmp_path: Path,
) -> None:
    extra = tmp_path / "releases.yaml"
    extra.write_text(
        "woocommerce:\n"
        "  releases:\n"
        "    - name: woo-mirror\n"
        "      released: 2026-12-01\n"
        "      chart: 0.1.0\n"
        "      versions: {wordpress: '6.8'}\n"
        "      values: {images: {wordpress: {repository: mirror.test/wordpress}}}\n"
    )
    store = ps.store_id()
    stores.append(store)
    settings = ps.settings(nats_server.url, devcluster.kubeconfig, releases_file=str(extra))
    async with ps.running(settings):
        await ps.publish(js, at_release(store, 1, "woo-mirror"))
        await provisioned(progress, store, 1)
    # The chart's tag under the release's repository.
    assert await web_image(kube, store) == "mirror.test/wordpress:6.8-php8.4-apache"
    assert await release_label(kube, store) == "woo-mirror"
