"""`urumi stores domains …`: a store on the tenant's own domains."""

import argparse
import json
from typing import Any

from services.cli.api import call, run


def _path(args: argparse.Namespace) -> str:
    return f"/api/v1/stores/{args.id}/domains"


def _show(domain: dict[str, Any]) -> None:
    print(f"{domain['domain']:<40} {domain['state']:<20} {domain['reason']}")


def cmd_add(args: argparse.Namespace) -> int:
    domain = call(args, "POST", _path(args), {"domain": args.domain})
    if args.json:
        print(json.dumps(domain, indent=2))
        return 0
    _show(domain)
    print("Set these records at your DNS provider:")
    for record in domain["records"]:
        print(f"  {record['type']:<6} {record['name']:<50} {record['value']}")
    print(f"Then `urumi stores domains list {args.id}` (or `urumi stores watch {args.id}`).")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    items = call(args, "GET", _path(args))["items"]
    if args.json:
        print(json.dumps(items, indent=2))
        return 0
    print(f"{'DOMAIN':<40} {'STATE':<20} REASON")
    for domain in items:
        _show(domain)
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    store = call(args, "DELETE", f"{_path(args)}/{args.domain}")
    if args.json:
        print(json.dumps(store, indent=2))
        return 0
    own = ", ".join(store["domains"]) or "none"
    print(f"removed {args.domain} from {args.id} (its own domains now: {own})")
    return 0


def add_domains_parser(verbs: Any) -> None:
    domains = verbs.add_parser("domains", help="serve a store on your own domains")
    what = domains.add_subparsers(dest="domains_verb", required=True)
    add = what.add_parser("add", help="add a domain; prints the DNS records to set")
    add.add_argument("id", help="store id")
    add.add_argument("domain", help="e.g. shop.example.com")
    add.set_defaults(func=run(cmd_add))
    listing = what.add_parser("list", help="a store's domains and their state")
    listing.add_argument("id", help="store id")
    listing.set_defaults(func=run(cmd_list))
    remove = what.add_parser("remove", help="stop serving the store on a domain")
    remove.add_argument("id", help="store id")
    remove.add_argument("domain")
    remove.set_defaults(func=run(cmd_remove))
