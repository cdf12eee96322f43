"""Fixtures for the fault drills: the whole platform as processes on the devcluster."""

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio.client import ApiClient

from services.devtools.devcluster import DevCluster
from tests.faults.platform import PlatformHarness

Launch = Callable[..., Awaitable[PlatformHarness]]


@pytest.fixture
async def launch(devcluster: DevCluster, kube: ApiClient, tmp_path: Path) -> AsyncIterator[Launch]:
    """`await launch(kubeconfig=…, log_level=…, extra_env=…)` → a started PlatformHarness;
    stopped, and its stores' namespaces deleted, after the test."""
    started: list[PlatformHarness] = []

    async def start(**options: Any) -> PlatformHarness:
        platform = PlatformHarness(
            tmp_path / f"platform-{len(started)}", devcluster, kube, **options
        )
        started.append(platform)
        return await platform.start()

    yield start
    for platform in started:
        await platform.close()


@pytest.fixture
async def platform(launch: Launch) -> PlatformHarness:
    return await launch()
