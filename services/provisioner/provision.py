"""What one command does to the cluster: create/update a store, or delete it."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from services.contracts import labels
from services.contracts.backups import SCHEDULED_PREFIX, BackupState, BackupStatus, BackupStore
from services.contracts.commands import CreateStore, DeleteStore
from services.contracts.events import StepState
from services.contracts.ids import namespace_for
from services.contracts.phases import Phase
from services.contracts.store import StoreSpec
from services.provisioner.apply import Applier, describe
from services.provisioner.backup_values import (
    BackupStorage,
    backup_values,
    job_from_schedule,
    storage_secret,
)
from services.provisioner.engines import (
    SECRET_NAME,
    EngineDef,
    chart_path,
    engine_for,
    generate_secret,
)
from services.provisioner.errors import PermanentError, TransientError
from services.provisioner.ordering import Manifest, apply_order, stages
from services.provisioner.progress import Progress, utcnow
from services.provisioner.release_values import dumped_first, labelled, store_release
from services.provisioner.render import Renderer, check_manifests, operator_values
from services.provisioner.settings import ProvisionerSettings
from services.provisioner.values import StoreIngress, explain
from services.runtime.releases import Catalog, load_catalog


def secret_manifest(spec: StoreSpec, engine: EngineDef) -> Manifest:
    """The generated Secret: created once, never re-applied or pruned."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": SECRET_NAME,
            "namespace": namespace_for(spec.id),
            "labels": {
                labels.MANAGED_BY: labels.MANAGED_BY_VALUE,
                labels.STORE: spec.id,
                labels.TENANT: spec.tenant,
                labels.ENGINE: spec.engine.value,
                labels.COMPONENT: "credentials",
            },
        },
        "stringData": generate_secret(engine),
    }


def applied_at(live_ns: dict[str, Any] | None, generation: int, now: datetime) -> datetime:
    """Keep the start time of a generation already being applied, so retries and
    redeliveries neither reset the watcher's deadline nor change the object."""
    notes = ((live_ns or {}).get("metadata") or {}).get("annotations") or {}
    if notes.get(labels.GENERATION) == str(generation) and notes.get(labels.APPLIED_AT):
        try:
            return datetime.fromisoformat(notes[labels.APPLIED_AT])
        except ValueError:
            pass
    return now


def still_at_live_generation(namespace: Manifest, live_ns: dict[str, Any] | None) -> Manifest:
    """The Namespace as first applied: naming the generation the cluster already
    has. The watcher judges a generation by the objects once the Namespace names
    it, so naming a new one before its objects are applied would report the old
    objects as the new generation (`ready`, then `degraded` as they roll).
    Asleep or awake as that generation is, for the same reason: a wake's running
    objects are not yet applied."""
    notes = ((live_ns or {}).get("metadata") or {}).get("annotations") or {}
    kept = {k: notes[k] for k in (labels.GENERATION, labels.APPLIED_AT) if k in notes}
    if not kept:
        return namespace
    metadata = namespace["metadata"]
    annotations = {**metadata.get("annotations", {}), **kept}
    annotations.pop(labels.SLEEP, None)
    if labels.SLEEP in notes:
        annotations[labels.SLEEP] = notes[labels.SLEEP]
    return {**namespace, "metadata": {**metadata, "annotations": annotations}}


class Provisioner:
    def __init__(
        self,
        settings: ProvisionerSettings,
        applier: Applier,
        progress: Progress,
        renderer: Renderer,
        clock: Callable[[], datetime] = utcnow,
        releases: Catalog | None = None,
    ) -> None:
        self.settings = settings
        self.ingress = StoreIngress.from_settings(settings)
        self.storage = BackupStorage.from_settings(settings)
        self.releases = releases or load_catalog(settings.charts_dir, settings.releases_file)
        self.applier = applier
        self.progress = progress
        self.renderer = renderer
        self.clock = clock

    async def create(self, cmd: CreateStore) -> None:
        spec, ns = cmd.spec, namespace_for(cmd.spec.id)
        release = store_release(self.releases, spec)
        await self.progress.step(
            cmd,
            "provision",
            StepState.STARTED,
            f"applying generation {cmd.generation} (release {release.name}"
            f"{'; asleep: no pod runs' if spec.asleep else ''})",
            phase=Phase.PROVISIONING,
        )
        engine = engine_for(spec.engine)
        live = await self.applier.namespace(ns)
        if live and live["metadata"].get("deletionTimestamp"):
            raise TransientError(f"namespace {ns} is still being deleted; re-creating after that")
        manifests = await self._render(cmd, engine, live)
        await self.progress.step(cmd, "render", StepState.SUCCEEDED, f"{len(manifests)} objects")
        # The Namespace first (the Secret needs a home), naming the new generation last.
        await self.applier.server_side_apply(still_at_live_generation(manifests[0], live))
        created = await self.applier.create_once(secret_manifest(spec, engine))
        await self.progress.step(
            cmd,
            "secret",
            StepState.SUCCEEDED,
            "credentials generated" if created else "existing credentials kept",
        )
        if self.storage.bucket:
            await self.applier.server_side_apply(storage_secret(spec, self.settings))
        for stage, objects in stages(manifests[1:]):
            for manifest in objects:
                await self.applier.server_side_apply(manifest)
            said = ", ".join(describe(manifest) for manifest in objects)
            await self.progress.step(cmd, "apply", StepState.SUCCEEDED, f"{stage}: {said}")
        # A namespace this command made holds only what it just applied: nothing
        # to prune, and no listing of every kind.
        pruned = await self.applier.prune(ns, spec.id, manifests) if live else []
        if pruned:
            await self.progress.step(cmd, "prune", StepState.SUCCEEDED, ", ".join(pruned))
        if live:  # a namespace this command made named the generation from the start
            await self.applier.server_side_apply(manifests[0])
        await self.progress.step(
            cmd, "provision", StepState.SUCCEEDED, f"{len(manifests)} objects applied"
        )

    async def manifests(self, cmd: CreateStore, live: dict[str, Any] | None) -> list[Manifest]:
        """What `cmd` applies, in apply order (the Namespace first), without applying it."""
        return await self._render(cmd, engine_for(cmd.spec.engine), live)

    async def _render(
        self, cmd: CreateStore, engine: EngineDef, live: dict[str, Any] | None
    ) -> list[Manifest]:
        spec, ns = cmd.spec, namespace_for(cmd.spec.id)
        started = applied_at(live, cmd.generation, self.clock())
        release = store_release(self.releases, spec)
        values = labelled(engine.values(spec, cmd.generation, started, self.ingress), release)
        values = dumped_first(values, release, cmd.release_changed)
        values = backup_values(values, self.storage, spec, cmd.restore)
        chart = chart_path(self.settings, engine)
        operator = operator_values(self.settings.store_values_dir, engine.chart)
        try:
            rendered = await self.renderer.render(
                chart, spec.id, ns, values, operator, base=release.values
            )
        except PermanentError as exc:
            raise PermanentError(explain(str(exc))) from exc
        manifests = apply_order(rendered)
        check_manifests(manifests, ns, spec.id)
        return manifests

    async def backup(self, cmd: BackupStore) -> None:
        """Start the backup `cmd.backup`: a Job from the store's backup CronJob's
        template (an existing one is kept: a redelivered command starts nothing).
        What the cluster cannot take is a failed backup, never a failed store."""
        ns = namespace_for(cmd.store)
        await self.progress.step(cmd, "backup", StepState.STARTED, f"starting {cmd.backup}")
        if not self.storage.bucket:
            raise PermanentError(
                "backups need the platform's object storage: the operator sets "
                "URUMI_BACKUP_BUCKET (and its endpoint and keys) for the provisioner"
            )
        cronjob = await self.applier.read(
            {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"namespace": ns}},
            SCHEDULED_PREFIX,
        )
        if cronjob is None:
            raise PermanentError(
                f"store {cmd.store} has no backup CronJob {SCHEDULED_PREFIX} in {ns}: "
                "it is not applied yet, or is being deleted; try again once it is ready"
            )
        created = await self.applier.create_once(job_from_schedule(cronjob, cmd.backup))
        said = "Job created" if created else "Job already exists"
        await self.progress.step(cmd, "backup", StepState.SUCCEEDED, f"{cmd.backup}: {said}")

    async def backup_failed(self, cmd: BackupStore, message: str) -> None:
        """Say that `cmd`'s backup never started (the watcher reports the rest)."""
        at = self.clock()
        await self.progress.backup(
            BackupStatus(
                tenant=cmd.tenant,
                store=cmd.store,
                backup=cmd.backup,
                state=BackupState.FAILED,
                observed_at=at,
                completed_at=at,
                message=message,
            )
        )

    async def delete(self, cmd: DeleteStore) -> None:
        ns = namespace_for(cmd.store)
        await self.progress.step(
            cmd, "delete", StepState.STARTED, f"deleting namespace {ns}", phase=Phase.DELETING
        )
        notes = {labels.GENERATION: str(cmd.generation), labels.APPLIED_AT: _iso(self.clock())}
        existed = await self.applier.annotate_namespace(ns, notes)
        existed = existed and await self.applier.delete_namespace(ns)
        if existed:
            await self.applier.release_now(ns)
            await self.progress.step(
                cmd,
                "delete",
                StepState.SUCCEEDED,
                f"namespace {ns} is being deleted (its objects first)",
            )
            return
        # Nothing exists, so no watcher will ever see it go: say so ourselves.
        await self.progress.step(
            cmd,
            "delete",
            StepState.SUCCEEDED,
            f"namespace {ns} does not exist",
            phase=Phase.DELETED,
        )


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")
