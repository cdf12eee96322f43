"""Real backups on the real node, to a real S3 server (versitygw on the
node's bridge address, which the stores' pods may reach through their
NetworkPolicy), uploaded by rclone from the backup Job's pods.

Medusa: pg_dump and the uploads; a clone of the backup has the source's order
and signs in with its own admin credentials (not the source's), then a
restore's setup Job fetches and loads them into the source: the order placed
before the backup is there again, the one placed after it is gone.
WooCommerce (run here without its setup Job: no wp-cli): mariadb-dump and
wp-content of a site installed by its owner; renamed and given a file after
the backup, a restore (a Job of the load steps alone) brings back the title
and files of the backup's time. The object storage's key is in no pod's log,
nor in the platform's logs, streams or database."""

import asyncio
import gzip
import io
import re
import tarfile
from collections import Counter
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from kubernetes_asyncio.client import ApiClient

from services.devtools import realnode_config as cfg
from services.devtools.realnode import RealNode
from tests.faults.platform import LeakScan, PlatformHarness, assert_no_leak, new_id
from tests.fixtures.s3 import ObjectStorage, rclone, serving
from tests.fixtures.waiting import eventually
from tests.realnode import isolation, shopper, wordpress

READY_WITHIN_S = 900.0  # cold: Postgres initdb, Medusa's migrations and seed on 2 cores
WOOCOMMERCE_READY_WITHIN_S = 600.0  # cold: MariaDB's first initialisation on 2 cores
BACKUP_WITHIN_S = 300.0
PREFIX = "urumi/stores"


@pytest.fixture
def node_storage(realnode: RealNode, tmp_path: Path) -> Iterator[ObjectStorage]:
    """The object storage on the node's bridge address, where pods reach the host."""
    with serving(tmp_path / "s3", cfg.NODE_IP) as storage:
        yield storage


@pytest.fixture
def every_store(node_storage: ObjectStorage) -> dict[str, Any]:
    """The stores' backup and setup pods may reach the object storage."""
    port = urlsplit(node_storage.endpoint).port
    reach = {"networks": [{"cidr": f"{cfg.NODE_IP}/32"}], "ports": [port]}
    return {"backup": {"storage": reach}}


@pytest.fixture
def platform_env(node_storage: ObjectStorage) -> dict[str, str]:
    """Backups on: the provisioner's object storage settings."""
    return {
        "URUMI_BACKUP_ENDPOINT": node_storage.endpoint,
        "URUMI_BACKUP_BUCKET": node_storage.bucket,
        "URUMI_BACKUP_PREFIX": PREFIX,
        "URUMI_BACKUP_ACCESS_KEY_ID": node_storage.access_key_id,
        "URUMI_BACKUP_SECRET_ACCESS_KEY": node_storage.secret_access_key,
    }


def _uploaded(storage: ObjectStorage, home: Path, store: str, backup: str) -> dict[str, bytes]:
    """What the backup's Job wrote to the object storage, by name (fetched from the host)."""
    where = home / backup
    rclone(storage, home, "copy", f"store:{storage.bucket}/{PREFIX}/{store}/{backup}", str(where))
    return {path.name: path.read_bytes() for path in where.iterdir()}


async def _ready_store(
    platform: PlatformHarness, realnode: RealNode, engine: str, within: float
) -> tuple[str, shopper.Storefront, dict[str, str]]:
    """A new store of `engine`, ready: its id, its shop front, its admin's credentials."""
    store = new_id(f"bak-{engine[:3]}")
    created = await platform.create(store, engine=engine)
    front = shopper.Storefront(url=created["url"], ingress=realnode.ingress_url)
    await platform.wait_phase([store], "ready", within=within)
    return store, front, await platform.credentials(store)


async def _order_status(front: shopper.Storefront, token: str, order: str) -> int:
    async with front.client(Authorization=f"Bearer {token}") as http:
        return (await http.get(f"/admin/orders/{order}")).status_code


async def _backup(platform: PlatformHarness, store: str) -> dict[str, Any]:
    """Back the store up now; its row once finished."""
    started = await platform.http.post(f"{platform.api}/api/v1/stores/{store}/backups")
    assert started.status_code == 202, started.text
    backup = str(started.json()["id"])

    async def finished() -> dict[str, Any] | None:
        listed = await platform.http.get(f"{platform.api}/api/v1/stores/{store}/backups")
        row = next(b for b in listed.json()["items"] if b["id"] == backup)
        return row if row["state"] in ("succeeded", "failed") else None

    done: dict[str, Any] = await eventually(finished, BACKUP_WITHIN_S, 1, f"backup {backup}")
    assert done["state"] == "succeeded", done
    return done


async def test_a_real_medusa_backup_restores_the_store_s_orders(
    platform: PlatformHarness,
    realnode: RealNode,
    node_storage: ObjectStorage,
    tmp_path: Path,
) -> None:
    store, front, creds = await _ready_store(platform, realnode, "medusa", READY_WITHIN_S)
    token = await shopper.admin_token(front, creds["username"], creds["password"])
    key = await shopper.publishable_key(front, token)
    kept = await shopper.place_order(front, key, f"kept-{store}@example.com")

    backup = await _backup(platform, store)
    # What the Job wrote is in the object storage, its size as the API says:
    # the dump holds the order.
    objects = _uploaded(node_storage, tmp_path, store, backup["id"])
    assert sorted(objects) == ["database.sql.gz", "files.tar.gz"]
    assert backup["size_bytes"] == sum(len(data) for data in objects.values())
    assert kept.encode() in gzip.decompress(objects["database.sql.gz"])

    await _clone_signs_in_with_its_own_credentials(platform, realnode, store, backup, kept)
    # The source is as it was: its own credentials still sign in.
    await shopper.admin_token(front, creds["username"], creds["password"])

    gone = await shopper.place_order(front, key, f"gone-{store}@example.com")
    restored = await platform.http.post(
        f"{platform.api}/api/v1/stores/{store}/restore", json={"backup": backup["id"]}
    )
    assert restored.status_code == 202, restored.text
    assert restored.json()["generation"] == 2

    async def restored_ready() -> bool:
        view = await platform.store(store)
        return (view["generation"], view["phase"]) == (2, "ready")

    # Meanwhile the order placed after the backup is there (200) until the
    # server stops for the restore, then no server answers (502, 503 or 504) until the
    # backup is loaded, then the order is gone (404): never an error of a
    # server reading a database being loaded.
    seen = await _order_statuses(
        front, token, gone, eventually(restored_ready, READY_WITHIN_S, 1, "ready at gen 2")
    )
    print(f"\nwhile restoring, the later order: {dict(Counter(seen))}")
    unavailable = {502, 503, 504}
    assert set(seen) <= {200, 404} | unavailable, Counter(seen)
    assert unavailable & set(seen), "the server kept serving while the backup loaded"
    assert seen == sorted(seen, key=lambda status: (status != 200, status == 404)), seen
    token = await shopper.admin_token(front, creds["username"], creds["password"])
    assert await _order_status(front, token, kept) == 200, "the order before the backup is lost"
    assert await _order_status(front, token, gone) == 404, "the order after the backup survived"

    await _no_key_leaked(platform, realnode, node_storage)


async def _order_statuses(
    front: shopper.Storefront, token: str, order: str, until: Coroutine[Any, Any, object]
) -> list[int]:
    """GET the admin's view of `order` every quarter second until `until` is done."""
    seen: list[int] = []
    waiting = asyncio.ensure_future(until)
    while not waiting.done():
        seen.append(await _order_status(front, token, order))
        await asyncio.wait({waiting}, timeout=0.25)
    await waiting
    return seen


async def _clone_signs_in_with_its_own_credentials(
    platform: PlatformHarness, realnode: RealNode, source: str, backup: dict[str, Any], order: str
) -> None:
    """A clone of the backup: the source's data (its order) under the clone's
    own admin credentials, as the API gives them to the tenant; the source's
    password does not open it. Deleted after, to give the node back."""
    clone = new_id("bak-cln")
    answer = await platform.http.post(
        f"{platform.api}/api/v1/stores/{source}/clone", json={"id": clone, "backup": backup["id"]}
    )
    assert answer.status_code == 202, answer.text
    platform.stores.append(clone)
    front = shopper.Storefront(url=answer.json()["url"], ingress=realnode.ingress_url)
    await platform.wait_phase([clone], "ready", within=READY_WITHIN_S)
    own, theirs = await platform.credentials(clone), await platform.credentials(source)
    assert own["username"] == theirs["username"] and own["password"] != theirs["password"]
    token = await shopper.admin_token(front, own["username"], own["password"])
    assert await _order_status(front, token, order) == 200, "the clone lacks the source's order"
    assert await _login_status(front, theirs["username"], theirs["password"]) == 401
    await platform.delete(clone)


async def _login_status(front: shopper.Storefront, email: str, password: str) -> int:
    async with front.client() as http:
        answer = await http.post(
            "/auth/user/emailpass", json={"email": email, "password": password}
        )
    return answer.status_code


async def test_a_real_woocommerce_backup_restores_its_site_without_wp_cli(
    platform: PlatformHarness,
    realnode: RealNode,
    realnode_kube: ApiClient,
    node_storage: ObjectStorage,
    tmp_path: Path,
) -> None:
    store, front, creds = await _ready_store(
        platform, realnode, "woocommerce", WOOCOMMERCE_READY_WITHIN_S
    )
    namespace = f"store-{store}"
    title = f"Shop {store}"
    await wordpress.install(front, title, creds["username"], creds["password"], "o@shops.test")
    await _upload(realnode, realnode_kube, namespace, "kept.txt")

    backup = await _backup(platform, store)
    objects = _uploaded(node_storage, tmp_path, store, backup["id"])
    assert backup["size_bytes"] == sum(len(data) for data in objects.values())
    dump = gzip.decompress(objects["database.sql.gz"])
    assert title.encode() in dump and b"DROP TABLE IF EXISTS `wp_options`" in dump
    with tarfile.open(fileobj=io.BytesIO(objects["files.tar.gz"])) as files:
        names = files.getnames()
    assert "./themes/twentytwentyfive/style.css" in names, names[:20]
    assert "./uploads/kept.txt" in names, names[-20:]
    assert not [n for n in names if n.startswith("./urumi-backups")]

    # After the backup the owner renames the site and uploads another file.
    renamed = "Renamed after the backup"
    _query(
        realnode,
        namespace,
        "UPDATE wp_options SET option_value = 'Renamed after the backup' "
        "WHERE option_name = 'blogname'",
    )
    assert await wordpress.serves(front, renamed), await wordpress.served_title(front)
    await _upload(realnode, realnode_kube, namespace, "gone.txt")

    # The node runs WooCommerce without its setup Job (no wp-cli): the restore
    # is a Job of its fetch and load steps, the store ready once it has run.
    restored = await platform.http.post(
        f"{platform.api}/api/v1/stores/{store}/restore", json={"backup": backup["id"]}
    )
    assert restored.status_code == 202, restored.text

    async def restored_ready() -> bool:
        view = await platform.store(store)
        return (view["generation"], view["phase"]) == (2, "ready")

    # A shopper meanwhile sees the site as it was, "Briefly unavailable" (503:
    # WordPress's maintenance page, or the ingress's while no web pod is
    # ready) or the site as backed up; never half-loaded data (WordPress's
    # installer, a database error).
    seen = await _watching(
        front, eventually(restored_ready, WOOCOMMERCE_READY_WITHIN_S, 1, "ready at generation 2")
    )
    print(f"\nwhile restoring: {dict(Counter(seen))}")
    assert set(seen) <= {(200, renamed), (503, "Maintenance"), (503, ""), (200, title)}, Counter(
        seen
    )
    # The storefront as backed up (out of maintenance mode: it serves pages).
    assert await wordpress.serves(front, title), await wordpress.served_title(front)
    assert await _served(front, "kept.txt") == 200, "a file from before the backup is lost"
    assert await _served(front, "gone.txt") == 404, "a file from after the backup survived"
    # The owner's password of the backup's time signs in (setup is off, so
    # nothing resets it; WordPress answers a good login with a redirect).
    assert await _wp_login(front, creds["username"], creds["password"]) == 302
    await _no_key_leaked(platform, realnode, node_storage)


async def _watching(
    front: shopper.Storefront, until: Coroutine[Any, Any, object]
) -> list[tuple[int, str]]:
    """The home page's (status, title) every quarter second until `until` is done."""
    seen: list[tuple[int, str]] = []
    waiting = asyncio.ensure_future(until)
    async with front.client() as http:
        while not waiting.done():
            page = await http.get("/")
            found = re.search(r"<title>(.*?)</title>", page.text, re.S)
            seen.append(
                (
                    page.status_code,
                    found.group(1).strip() if found and page.status_code in (200, 503) else "",
                )
            )
            await asyncio.wait({waiting}, timeout=0.25)
    await waiting
    return seen


async def _upload(node: RealNode, kube: ApiClient, namespace: str, name: str) -> None:
    """A file in wp-content/uploads, as a media upload would leave it."""
    web, _ = await isolation.pod_ip(kube, namespace, "web")
    uploads = "/var/www/html/wp-content/uploads"
    script = f"mkdir -p {uploads} && echo {name} > {uploads}/{name}"
    done = node.run_in(namespace, web, "wordpress", "sh", "-c", script)
    assert done.returncode == 0, done.stderr


def _query(node: RealNode, namespace: str, sql: str) -> None:
    """SQL as the site's database user, in the database container."""
    script = 'MYSQL_PWD="$MARIADB_PASSWORD" mariadb -u"$MARIADB_USER" "$MARIADB_DATABASE" -e "$0"'
    done = node.run_in(namespace, "mariadb-0", "mariadb", "sh", "-c", script, sql)
    assert done.returncode == 0, done.stderr


async def _served(front: shopper.Storefront, name: str) -> int:
    async with front.client() as http:
        return (await http.get(f"/wp-content/uploads/{name}")).status_code


async def _wp_login(front: shopper.Storefront, user: str, password: str) -> int:
    # No "testcookie": WordPress's check that the browser keeps cookies is skipped.
    form = {"log": user, "pwd": password, "wp-submit": "Log In"}
    async with front.client() as http:
        return (await http.post("/wp-login.php", data=form)).status_code


async def _no_key_leaked(
    platform: PlatformHarness, realnode: RealNode, storage: ObjectStorage
) -> None:
    secret = {storage.secret_access_key.encode(): "the object storage's secret key"}
    assert realnode.layout is not None
    pods = LeakScan(secret)
    assert pods.files("pod-log", realnode.layout.pod_logs_dir.rglob("*.log")), "no pod logs"
    assert not pods.found, pods.found
    assert_no_leak(await platform.leak_scan(secret))
