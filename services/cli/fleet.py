"""`urumi fleet …`: the platform admin upgrades every store of an engine in waves,
and follows, pauses, resumes or cancels it."""

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any, Final

from services.cli.api import Command, call, run

DEV_SECRETS = Path(".urumi/dev-secrets.json")
FLEETS = "/api/v1/fleet-upgrades"
FINAL = ("cancelled", "halted", "done")
POLL_S = 1.0
NOT_ADMIN: Final = "no admin token: pass --token or set URUMI_ADMIN_TOKEN"


def _admin_token() -> str:
    token = os.environ.get("URUMI_ADMIN_TOKEN", "")
    if not token and DEV_SECRETS.exists():
        token = json.loads(DEV_SECRETS.read_text()).get("admin_token", "")
    return token


def summary_line(fleet: dict[str, Any]) -> str:
    """E.g. `01… woocommerce → woo-2026.11 running wave 2/3: 10 upgraded, 5 upgrading`."""
    c = fleet["counts"]
    shown = [f"{c[k]} {k}" for k in ("upgraded", "upgrading", "failed", "skipped", "waiting")]
    return (
        f"{fleet['id']} {fleet['engine']} → {fleet['to_release']} {fleet['state']} "
        f"wave {fleet['wave']}/{fleet['waves']}: {', '.join(n for n in shown if n[0] != '0')}"
    )


def _print_fleet(args: argparse.Namespace, fleet: dict[str, Any]) -> None:
    if args.json:
        print(json.dumps(fleet, indent=2))
        return
    print(summary_line(fleet))
    if fleet.get("message"):
        print(f"  {fleet['message']}")


def cmd_upgrade(args: argparse.Namespace) -> int:
    body = {
        "engine": args.engine,
        "to_release": args.to,
        "wave": args.wave,
        "max_failures": args.max_failures,
        "store_timeout_s": args.store_timeout,
    }
    fleet = call(args, "POST", FLEETS, body)
    _print_fleet(args, fleet)
    return _follow(args, fleet["id"]) if args.wait else 0


def cmd_list(args: argparse.Namespace) -> int:
    items = call(args, "GET", FLEETS)["items"]
    if args.json:
        print(json.dumps(items, indent=2))
        return 0
    for fleet in items:
        print(summary_line(fleet))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    detail = call(args, "GET", f"{FLEETS}/{args.id}")
    if args.json:
        print(json.dumps(detail, indent=2))
        return 0
    _print_fleet(args, detail["fleet"])
    print(f"  {'WAVE':<5} {'STORE':<28} {'TENANT':<16} {'FROM':<16} {'STATE':<10} REASON")
    for m in detail["stores"]:
        print(
            f"  {m['wave']:<5} {m['store']:<28} {m['tenant']:<16} {m['from_release']:<16} "
            f"{m['state']:<10} {m['reason']}"
        )
    return 0


def cmd_control(args: argparse.Namespace) -> int:
    _print_fleet(args, call(args, "POST", f"{FLEETS}/{args.id}/{args.control}"))
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    return _follow(args, args.id)


def _follow(args: argparse.Namespace, fleet_id: str) -> int:
    """Print every change of the fleet and of its stores until its state is final:
    0 when done, 1 when halted or cancelled."""
    seen: dict[str, str] = {}
    last = ""
    try:
        while True:
            detail = call(args, "GET", f"{FLEETS}/{fleet_id}")
            for m in detail["stores"]:
                if seen.get(m["store"], "waiting") != m["state"]:
                    reason = f" ({m['reason']})" if m["reason"] else ""
                    print(f"  wave {m['wave']}: {m['store']} {m['state']}{reason}", flush=True)
                seen[m["store"]] = m["state"]
            fleet = detail["fleet"]
            if summary_line(fleet) != last:
                last = summary_line(fleet)
                print(last, flush=True)
            if fleet["state"] in FINAL:
                print(f"  {fleet['message']}")
                return 0 if fleet["state"] == "done" else 1
            time.sleep(POLL_S)
    except KeyboardInterrupt:
        return 130


def _admin(func: Command) -> Command:
    return run(func, NOT_ADMIN)


def add_fleet_parser(sub: Any, api: str) -> None:
    fleet = sub.add_parser("fleet", help="upgrade every store of an engine, in waves (admin)")
    fleet.add_argument("--api", default=api, help="gateway URL (env URUMI_API_URL)")
    fleet.add_argument(
        "--token", default=_admin_token(), help="the platform's admin token (env URUMI_ADMIN_TOKEN)"
    )
    fleet.add_argument("--json", action="store_true", help="print JSON")
    verbs = fleet.add_subparsers(dest="verb", required=True)
    upgrade = verbs.add_parser("upgrade", help="start a fleet upgrade")
    upgrade.add_argument("--engine", required=True, choices=["woocommerce", "medusa"])
    upgrade.add_argument("--to", required=True, help="the release (`urumi stores releases`)")
    upgrade.add_argument("--wave", default="10%", help='stores per wave: "10" or "10%%"')
    upgrade.add_argument(
        "--max-failures", type=int, default=0, help="failed stores tolerated before halting"
    )
    upgrade.add_argument(
        "--store-timeout",
        type=int,
        default=1800,
        help="seconds a store may take to be ready after its upgrade before it counts failed",
    )
    upgrade.add_argument("--wait", action="store_true", help="follow until it ends")
    upgrade.set_defaults(func=_admin(cmd_upgrade))
    listing = verbs.add_parser("list", help="fleet upgrades, newest first")
    listing.set_defaults(func=_admin(cmd_list))
    show = verbs.add_parser("show", help="one fleet upgrade and its stores")
    show.add_argument("id")
    show.set_defaults(func=_admin(cmd_show))
    watch = verbs.add_parser("watch", help="follow a fleet upgrade until it ends")
    watch.add_argument("id")
    watch.set_defaults(func=_admin(cmd_watch))
    for control, what in (
        ("pause", "start no new wave until resumed"),
        ("resume", "resume a paused fleet upgrade"),
        ("cancel", "stop at the end of the wave in flight"),
    ):
        verb = verbs.add_parser(control, help=what)
        verb.add_argument("id")
        verb.set_defaults(func=_admin(cmd_control), control=control)
