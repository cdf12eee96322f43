"""Engine releases in the terminal: a store's release, whether a newer one exists,
and the catalog (`urumi stores releases`)."""

import argparse
import json
from typing import Any

from services.cli.api import call

RELEASE_HEADER = f"{'RELEASE':<16} {'UPGRADE':<16}"


def release_columns(store: dict[str, Any]) -> str:
    """The store's release, and the newer one it could upgrade to ("-": none)."""
    newer = store["latest_release"] if store.get("upgrade_available") else "-"
    return f"{store.get('release', ''):<16} {newer:<16}"


def release_line(store: dict[str, Any]) -> str:
    line = f"  release: {store.get('release', '')}"
    if store.get("upgrade_available"):
        line += (
            f" (upgrade available: {store['latest_release']}; "
            f"urumi stores upgrade {store['id']} --release {store['latest_release']})"
        )
    return line


def cmd_releases(args: argparse.Namespace) -> int:
    catalog = call(args, "GET", "/api/v1/releases")
    engines = [e for e in catalog["engines"] if args.engine in (None, e["engine"])]
    if args.json:
        print(json.dumps(engines, indent=2))
        return 0
    print(f"{'ENGINE':<12} {'RELEASE':<16} {'RELEASED':<11} VERSIONS")
    for engine in engines:
        for release in engine["releases"]:
            versions = ", ".join(f"{k} {v}" for k, v in release["versions"].items())
            suffix = "  (default)" if engine["default"] == release["name"] else ""
            print(
                f"{engine['engine']:<12} {release['name']:<16} {release['released']:<11} "
                f"{versions}{suffix}"
            )
    return 0
