"""The periodic resync: every store once a period, spread out, rate-limited."""

from services.watcher.resync import ResyncSchedule

STORES = [f"store-s{i}" for i in range(100)]


def run(schedule: ResyncSchedule, until: float, step: float = 1.0) -> list[tuple[float, str]]:
    asked, now = [], 0.0
    while now <= until:
        asked += [(now, s) for s in schedule.due(STORES, now)]
        now += step
    return asked


def test_each_store_once_per_period_spread_over_it() -> None:
    asked = run(ResyncSchedule(period_s=100, per_s=10), until=100)
    assert sorted(s for _, s in asked) == sorted(STORES)
    # Spread: no second of the period carries more than a handful.
    per_second: dict[float, int] = {}
    for at, _ in asked:
        per_second[at] = per_second.get(at, 0) + 1
    assert max(per_second.values()) <= 10
    assert len(per_second) > 30


def test_again_one_period_later() -> None:
    asked = run(ResyncSchedule(period_s=100, per_s=10), until=200)
    assert all(sum(1 for _, s in asked if s == store) == 2 for store in STORES)


def test_the_rate_limit_holds_when_everything_is_due_at_once() -> None:
    schedule = ResyncSchedule(period_s=10, per_s=2)
    schedule.due(STORES, 0.0)
    assert len(schedule.due(STORES, 1000.0)) <= 2
    assert len(schedule.due(STORES, 1001.0)) == 2


def test_a_store_that_left_is_not_asked_for() -> None:
    schedule = ResyncSchedule(period_s=10, per_s=100)
    schedule.due(["store-a", "store-b"], 0.0)
    assert schedule.due(["store-a"], 20.0) == ["store-a"]


def test_a_new_store_waits_a_whole_period() -> None:
    """A store created after the watcher started was just applied: no resync
    for a period, whatever its offset (it would queue a second command)."""
    schedule = ResyncSchedule(period_s=100, per_s=100)
    schedule.due(["store-old"], 0.0)
    new = next(s for s in STORES if schedule.offset(s) < 10)
    asked = [s for now in range(1, 100) for s in schedule.due(["store-old", new], float(now))]
    assert new not in asked
    assert schedule.due(["store-old", new], 101.0).count(new) == 1
