"""`urumi stores …`: a terminal client of the gateway's HTTP API."""

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Final

from services.cli.api import ApiError, call, list_path, run
from services.cli.backup_wait import wait_for_backup
from services.cli.domains import add_domains_parser
from services.cli.releases import RELEASE_HEADER, cmd_releases, release_columns, release_line
from services.cli.watch import follow, human_size

DEV_FILE = Path(".urumi/dev.json")
TIMED_OUT: Final = 124  # as timeout(1) exits


def defaults() -> tuple[str, str]:
    api, token = os.environ.get("URUMI_API_URL", ""), os.environ.get("URUMI_TOKEN", "")
    if DEV_FILE.exists() and (not api or not token):
        dev = json.loads(DEV_FILE.read_text())
        api, token = api or dev.get("api_url", ""), token or dev.get("token", "")
    return api or "http://127.0.0.1:8080", token


def _row(store: dict[str, Any]) -> str:
    s = store
    return (
        f"{s['id']:<28} {s['engine']:<12} {s['plan']:<7} {s['phase']:<13} "
        f"{release_columns(s)} {s['url']}"
    )


def _print_store(args: argparse.Namespace, store: dict[str, Any]) -> None:
    if args.json:
        print(json.dumps(store, indent=2))
        return
    print(_row(store))
    print(release_line(store))
    if store.get("asleep"):
        print(f"  asleep: no pod runs, its data is kept; `urumi stores wake {store['id']}`")
    if store.get("reason"):
        print(f"  reason: {store['reason']}: {store['message']}")


def cmd_create(args: argparse.Namespace) -> int:
    body = {
        "id": args.id,
        "engine": args.engine,
        "plan": args.plan,
        "display_name": args.name,
        "release": args.release,
    }
    _print_store(args, call(args, "POST", "/api/v1/stores", body))
    return _follow(args, args.id) if args.wait else 0


def all_stores(args: argparse.Namespace) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    after = None
    while True:
        page = call(args, "GET", list_path(after))
        items += page["items"]
        after = page.get("next_after")
        if not after:
            return items


def _table(
    args: argparse.Namespace,
    items: list[dict[str, Any]],
    header: str,
    row: Callable[[dict[str, Any]], str],
) -> int:
    """`items` as JSON (--json), else `header` and a `row(item)` line each."""
    if args.json:
        print(json.dumps(items, indent=2))
        return 0
    print(header)
    for item in items:
        print(row(item))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    header = f"{'ID':<28} {'ENGINE':<12} {'PLAN':<7} {'PHASE':<13} {RELEASE_HEADER} URL"
    return _table(args, all_stores(args), header, _row)


def cmd_get(args: argparse.Namespace) -> int:
    _print_store(args, call(args, "GET", f"/api/v1/stores/{args.id}"))
    return 0


def cmd_update(args: argparse.Namespace) -> int:
    changes = {"plan": args.plan, "display_name": args.name, "release": args.release}
    body: dict[str, Any] = {f: value for f, value in changes.items() if value is not None}
    if not body:
        raise ApiError("nothing to change: pass --plan, --name, --release, or several")
    if args.allow_downgrade:
        body["allow_downgrade"] = True
    _print_store(args, call(args, "PATCH", f"/api/v1/stores/{args.id}", body))
    return _follow(args, args.id) if args.wait else 0


def cmd_rollback(args: argparse.Namespace) -> int:
    store = call(args, "POST", f"/api/v1/stores/{args.id}/rollback")
    if not args.json:
        print(
            f"rolling {store['id']} back to release {store['release']} (plan {store['plan']}) "
            f"at generation {store['generation']}"
        )
    _print_store(args, store)
    return _follow(args, args.id) if args.wait else 0


def cmd_sleep(args: argparse.Namespace) -> int:
    return _set_asleep(args, "sleep")


def cmd_wake(args: argparse.Namespace) -> int:
    return _set_asleep(args, "wake")


def _set_asleep(args: argparse.Namespace, verb: str) -> int:
    """POST …/sleep or …/wake (a store already so is shown as it is)."""
    _print_store(args, call(args, "POST", f"/api/v1/stores/{args.id}/{verb}"))
    return _follow(args, args.id) if args.wait else 0


def _backup_row(b: dict[str, Any]) -> str:
    when, size = b["completed_at"] or b["created_at"], human_size(b["size_bytes"])
    return f"{b['id']:<34} {b['trigger']:<10} {b['state']:<10} {size:>10}  {when}"


def cmd_backup(args: argparse.Namespace) -> int:
    path = f"/api/v1/stores/{args.id}/backups"
    if not args.wait:
        _print_backup(args, call(args, "POST", path))
        print(f"  `urumi stores backups {args.id}` shows its state; `--wait` follows it")
        return 0
    goes_on = f"the backup goes on: `urumi stores backups {args.id}` shows its state"
    work = wait_for_backup(
        args.api,
        args.token,
        args.id,
        lambda: call(args, "POST", path),
        lambda backup: _print_backup(args, backup),
    )
    return _wait(args, work, goes_on)


def _print_backup(args: argparse.Namespace, backup: dict[str, Any]) -> None:
    print(json.dumps(backup, indent=2) if args.json else _backup_row(backup), flush=True)


def cmd_backups(args: argparse.Namespace) -> int:
    items = call(args, "GET", f"/api/v1/stores/{args.id}/backups")["items"]
    header = f"{'BACKUP':<34} {'TRIGGER':<10} {'STATE':<10} {'SIZE':>10}  TIME"
    return _table(args, items, header, _backup_row)


def cmd_restore(args: argparse.Namespace) -> int:
    body = {"backup": args.backup}
    _print_store(args, call(args, "POST", f"/api/v1/stores/{args.id}/restore", body))
    return _follow(args, args.id) if args.wait else 0


def cmd_clone(args: argparse.Namespace) -> int:
    body = {"id": args.to, "backup": args.backup, "plan": args.plan, "display_name": args.name}
    _print_store(args, call(args, "POST", f"/api/v1/stores/{args.id}/clone", body))
    return _follow(args, args.to) if args.wait else 0


def cmd_delete(args: argparse.Namespace) -> int:
    _print_store(args, call(args, "DELETE", f"/api/v1/stores/{args.id}"))
    return _follow(args, args.id) if args.wait else 0


def cmd_watch(args: argparse.Namespace) -> int:
    return _follow(args, args.id, until_settled=args.id is not None)


def _follow(args: argparse.Namespace, store_id: str | None, until_settled: bool = True) -> int:
    goes_on = f"the change goes on: `urumi stores watch {store_id}` follows it"
    return _wait(args, follow(args.api, args.token, store_id, until_settled), goes_on)


def _wait(args: argparse.Namespace, work: Coroutine[Any, Any, int], goes_on: str) -> int:
    """`work`'s exit code; TIMED_OUT, saying what `goes_on`, past `--timeout`."""
    timeout: float | None = getattr(args, "timeout", None)  # `watch` has none
    try:
        return asyncio.run(asyncio.wait_for(work, timeout))
    except KeyboardInterrupt:
        return 130
    except TimeoutError:
        print(f"urumi: stopped waiting after {timeout:g} s; {goes_on}", file=sys.stderr)
        return TIMED_OUT


def _wait_arguments(verb: argparse.ArgumentParser, until: str) -> None:
    verb.add_argument("--wait", action="store_true", help=f"follow until {until}")
    verb.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help=f"with --wait: stop waiting after this long, exit {TIMED_OUT} (what was asked "
        "for goes on)",
    )


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"takes a number of seconds above 0, not {text!r}")
    return seconds


def _release_arguments(verb: argparse.ArgumentParser, required: bool) -> None:
    verb.add_argument("--release", required=required, help="a newer release of its engine")
    verb.add_argument(
        "--allow-downgrade",
        action="store_true",
        help="to an older release too (its database was migrated forward: it may not run)",
    )
    _wait_arguments(verb, "ready again")


def add_stores_parser(sub: Any) -> None:
    api, token = defaults()
    stores = sub.add_parser(
        "stores",
        help="create, list, get, change, roll back, sleep, wake, back up, restore, clone, "
        "delete, watch stores; serve them on your own domains",
    )
    stores.add_argument("--api", default=api, help="gateway URL (env URUMI_API_URL)")
    stores.add_argument("--token", default=token, help="tenant token (env URUMI_TOKEN)")
    stores.add_argument("--json", action="store_true", help="print JSON")
    verbs = stores.add_subparsers(dest="verb", required=True)
    create = verbs.add_parser("create", help="launch a store")
    create.add_argument("id")
    create.add_argument("--engine", default="woocommerce", choices=["woocommerce", "medusa"])
    create.add_argument("--plan", default="small", choices=["small", "medium", "large"])
    create.add_argument("--name", default="", help="display name")
    create.add_argument(
        "--release", default="", help="engine release (`urumi stores releases`; else its default)"
    )
    _wait_arguments(create, "ready or failed")
    create.set_defaults(func=run(cmd_create))
    verbs.add_parser("list", help="list your stores").set_defaults(func=run(cmd_list))
    get = verbs.add_parser("get", aliases=["show"], help="show one store")
    get.add_argument("id")
    get.set_defaults(func=run(cmd_get))
    update = verbs.add_parser("update", help="change a store's plan, display name or release")
    update.add_argument("id")
    update.add_argument("--plan", choices=["small", "medium", "large"], help="volumes keep size")
    update.add_argument("--name", help="display name")
    _release_arguments(update, required=False)
    update.set_defaults(func=run(cmd_update))
    upgrade = verbs.add_parser("upgrade", help="move a store to another engine release")
    upgrade.add_argument("id")
    _release_arguments(upgrade, required=True)
    upgrade.set_defaults(func=run(cmd_update), plan=None, name=None)
    back = verbs.add_parser("rollback", help="return a store to its previous generation's spec")
    back.add_argument("id")
    _wait_arguments(back, "ready again")
    back.set_defaults(func=run(cmd_rollback))
    asleep = verbs.add_parser(
        "sleep", help="stop a store's pods, keeping its data; its host shows an asleep page"
    )
    asleep.add_argument("id")
    _wait_arguments(asleep, "asleep")
    asleep.set_defaults(func=run(cmd_sleep))
    wake = verbs.add_parser("wake", help="start a sleeping store again on the same data")
    wake.add_argument("id")
    _wait_arguments(wake, "ready again")
    wake.set_defaults(func=run(cmd_wake))
    releases = verbs.add_parser("releases", help="the engine releases stores can run")
    releases.add_argument("--engine", choices=["woocommerce", "medusa"])
    releases.set_defaults(func=run(cmd_releases))
    backup = verbs.add_parser("backup", help="back a store up now (database and files)")
    backup.add_argument("id")
    _wait_arguments(backup, "it succeeded or failed")
    backup.set_defaults(func=run(cmd_backup))
    listed = verbs.add_parser("backups", help="a store's backups: time, size, state")
    listed.add_argument("id")
    listed.set_defaults(func=run(cmd_backups))
    restore = verbs.add_parser("restore", help="restore a store from one of its backups")
    restore.add_argument("id")
    restore.add_argument("--backup", required=True, help="a backup id (`urumi stores backups`)")
    _wait_arguments(restore, "ready again")
    restore.set_defaults(func=run(cmd_restore))
    clone = verbs.add_parser("clone", help="a new store from a backup of this one")
    clone.add_argument("id")
    clone.add_argument("--backup", required=True, help="a backup id (`urumi stores backups`)")
    clone.add_argument("--to", required=True, help="the new store's id")
    clone.add_argument("--plan", choices=["small", "medium", "large"], help="default: the source's")
    clone.add_argument("--name", help="display name (default: the source's)")
    _wait_arguments(clone, "the clone is ready")
    clone.set_defaults(func=run(cmd_clone))
    remove = verbs.add_parser("delete", help="delete a store and everything in it")
    remove.add_argument("id")
    _wait_arguments(remove, "deleted")
    remove.set_defaults(func=run(cmd_delete))
    watch = verbs.add_parser("watch", help="live progress of one store (or all)")
    watch.add_argument("id", nargs="?")
    watch.set_defaults(func=run(cmd_watch))
    add_domains_parser(verbs)
