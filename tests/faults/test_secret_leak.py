"""Secret-leak scan: after a full-stack run in which the stores' admin passwords
have travelled (Secret → provisioner → NATS request/reply → gateway → HTTP), none
of the generated values is in a service log, a stream message, a message seen on
`urumi.>`, the gateway's SQLite files (database, WAL) or NATS's store directory.

The services run at DEBUG, the level an operator turns on when something is wrong,
so third-party libraries' debug output is searched too.
"""

from kubernetes_asyncio.client import ApiClient

from tests.faults.conftest import Launch
from tests.faults.platform import (
    assert_no_leak,
    namespace_exists,
    needles,
    new_id,
    store_passwords,
)

ALL_SINKS = {"log", "stream", "wire", "sqlite", "nats-store"}


async def test_no_generated_password_anywhere(launch: Launch, kube: ApiClient) -> None:
    platform = await launch(log_level="DEBUG")
    stores = [new_id("leak") for _ in range(3)]
    for store in stores:
        await platform.create(store, display_name=f"Leak check {store}")
    await platform.wait_phase(stores, "ready", within=180)

    passwords = await store_passwords(kube, platform.tenant)
    assert sorted(passwords) == sorted(stores)
    assert all(len(values) == 3 for values in passwords.values()), passwords.keys()
    platform.passwords.update(passwords)  # kept: one store's Secret goes with it below
    for store in stores:
        credentials = await platform.credentials(store)
        assert credentials["password"] in passwords[store]

    gone = stores[0]
    await platform.delete(gone)
    await platform.wait_phase([gone], "deleted", within=120)
    assert not await namespace_exists(kube, gone)

    # A value known to flow everywhere a password must not (the store id: in log
    # lines, subjects, payloads and rows) proves every sink was really read.
    canary = needles([])
    canary[gone.encode()] = "canary"
    scan = await platform.leak_scan(extra_needles=canary)
    found_canary = {where.split(":", 1)[0] for where, label in scan.found if label == "canary"}
    assert found_canary == ALL_SINKS, f"the scan missed the canary in {ALL_SINKS - found_canary}"
    scan.found = [(where, label) for where, label in scan.found if label != "canary"]
    assert len(scan.needles) == 1 + 2 * 9  # the canary, and 9 passwords plain and base64
    assert_no_leak(scan)
