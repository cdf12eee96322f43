"""One set of vectors for every copy of the store-state fold: the platform's
(services/contracts/store_state.py, used by the gateway and `urumi stores watch`)
and the dashboard's (dashboard/js/state.js, run by Node.js), so a store reads the
same in the terminal, on the live page and after a reload."""

import json
from pathlib import Path
from typing import Any, Final

import msgspec
import pytest

from services.contracts.events import StoreProgress, StoreStatus
from services.contracts.next_steps import NEXT_STEPS, next_step
from services.contracts.store_state import StoreState, fold
from tests.unit.dashboard_js import run_dashboard_js

TESTS: Final = Path(__file__).resolve().parents[1]
VECTORS: Final = json.loads((TESTS / "vectors" / "store_state.json").read_text())
# Every reason the table knows, and ones it does not.
REASONS: Final = [*NEXT_STEPS.reasons, "", "Evicted"]
NAMES: Final = [v["name"] for v in VECTORS["vectors"]]


def python_fold(vector: dict[str, Any]) -> dict[str, Any]:
    state = msgspec.convert({**VECTORS["state_defaults"], **vector["initial"]}, StoreState)
    for raw in vector["events"]:
        event = msgspec.convert(
            {**VECTORS["defaults"][raw["type"]], **raw}, StoreStatus | StoreProgress
        )
        state = fold(state, event) or state
    folded: dict[str, Any] = msgspec.to_builtins(state)
    return {**folded, "next_step": next_step(state.reason)}


def expected_fields(vector: dict[str, Any], folded: dict[str, Any]) -> dict[str, Any]:
    return {field: folded.get(field) for field in vector["expected"]}


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    """What the dashboard's JavaScript makes of the vectors, given the table the
    gateway serves."""
    given = {
        "vectors": VECTORS,
        "next_steps": json.loads(msgspec.json.encode(NEXT_STEPS)),
        "reasons": REASONS,
    }
    result: dict[str, Any] = run_dashboard_js(
        "fold_store_state.mjs", given, "the dashboard's fold on the vectors"
    )
    return result


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=NAMES)
def test_platform_fold(vector: dict[str, Any]) -> None:
    assert expected_fields(vector, python_fold(vector)) == vector["expected"]


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=NAMES)
def test_dashboard_fold(vector: dict[str, Any], dashboard: dict[str, Any]) -> None:
    folded = dashboard["folded"][vector["name"]]
    assert expected_fields(vector, folded) == vector["expected"]


def test_dashboard_says_what_to_do_from_the_platforms_table(dashboard: dict[str, Any]) -> None:
    assert dashboard["next_steps"] == {reason: next_step(reason) for reason in REASONS}


def test_vector_names_are_unique() -> None:
    assert len(set(NAMES)) == len(NAMES)
