"""Auto-sleep, the pure parts: the per-plan idle limits setting, which store is
idle past its plan's limit and what its sleep says, and the visits the watcher
reads from the ingress controller's request counters (Traefik and ingress-nginx)."""

from datetime import UTC, datetime, timedelta

import pytest

from services.contracts.phases import Phase
from services.contracts.store import Engine, Plan
from services.gateway.auto_sleep import describe, idle_limit, parse_limits, put_to_sleep
from services.gateway.models import StoreView
from services.gateway.settings import GatewaySettings
from services.gateway.sleep import visit_worth_recording
from services.runtime.settings import SettingsError, load_settings
from services.watcher.activity import grown, requests_by_namespace

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
DAY = timedelta(days=1)


def _store(
    plan: Plan = Plan.SMALL,
    last_visit: datetime | None = AT,
    asleep: bool = False,
    phase: Phase = Phase.READY,
) -> StoreView:
    return StoreView(
        id="shop", tenant="acme", engine=Engine.WOOCOMMERCE, plan=plan, display_name="",
        storage_plan=Plan.SMALL, phase=phase, generation=2, url="http://shop.shops.test",
        reason="", message="", conditions=[], created_at=AT - 30 * DAY, updated_at=AT,
        asleep=asleep, last_visit_at=last_visit,
    )  # fmt: skip


def test_the_setting_names_each_plans_limit_and_a_plan_left_out_never_sleeps() -> None:
    def limits(value: str | None) -> dict[Plan, timedelta]:
        env = {} if value is None else {"URUMI_AUTO_SLEEP_AFTER": value}
        return load_settings(GatewaySettings, env).auto_sleep_limits()

    assert limits(None) == {}
    assert limits("small=7d,medium=30d") == {Plan.SMALL: 7 * DAY, Plan.MEDIUM: 30 * DAY}
    assert limits("small=12h,medium=90m,large=45") == {
        Plan.SMALL: timedelta(hours=12),
        Plan.MEDIUM: timedelta(minutes=90),
        Plan.LARGE: timedelta(seconds=45),
    }
    for wrong in ("small=7w", "huge=7d", "small=0d", "small 7d"):
        with pytest.raises(SettingsError) as refused:
            limits(wrong)
        assert str(refused.value).startswith("URUMI_AUTO_SLEEP_AFTER: ")
    with pytest.raises(ValueError, match=r"e\.g\. small=7d,medium=30d"):
        parse_limits("small=7d,")


@pytest.mark.parametrize(
    ("limit", "said"),
    [
        (7 * DAY, "7 days"),
        (DAY, "1 day"),
        (timedelta(hours=36), "36 hours"),
        (timedelta(minutes=90), "90 minutes"),
        (timedelta(seconds=45), "45 seconds"),
    ],
)
def test_a_limit_is_said_in_its_largest_whole_unit(limit: timedelta, said: str) -> None:
    assert describe(limit) == said


def test_an_awake_store_sleeps_once_its_plans_limit_has_passed_since_its_last_visit() -> None:
    limits = {Plan.SMALL: 7 * DAY}
    assert idle_limit(_store(), limits, AT + 7 * DAY) == 7 * DAY
    assert idle_limit(_store(), limits, AT + 7 * DAY - timedelta(seconds=1)) is None
    assert idle_limit(_store(plan=Plan.MEDIUM), limits, AT + 365 * DAY) is None
    assert idle_limit(_store(asleep=True), limits, AT + 365 * DAY) is None
    assert idle_limit(_store(phase=Phase.DELETING), limits, AT + 365 * DAY) is None
    # A row the platform never saw a visit for counts from its creation.
    assert idle_limit(_store(last_visit=None), limits, AT - 23 * DAY) == 7 * DAY


def test_an_automatic_sleep_is_the_owners_sleep_saying_why() -> None:
    asleep = put_to_sleep(_store(), 7 * DAY)
    assert asleep is not None
    assert (asleep.asleep, asleep.generation, asleep.phase) == (True, 3, Phase.PROVISIONING)
    assert asleep.reason == "FallingAsleep"
    assert asleep.message.startswith("no visit for 7 days: ")
    assert put_to_sleep(_store(asleep=True), 7 * DAY) is None


def test_a_visit_to_the_asleep_page_is_written_at_most_once_a_minute() -> None:
    sleeping = _store(asleep=True)
    assert not visit_worth_recording(sleeping, AT + timedelta(seconds=59))
    assert visit_worth_recording(sleeping, AT + timedelta(minutes=1))
    assert visit_worth_recording(_store(last_visit=None), AT)
    assert not visit_worth_recording(_store(phase=Phase.DELETING), AT + DAY)


TRAEFIK = """\
# HELP traefik_service_requests_total How many HTTP requests processed on a service.
# TYPE traefik_service_requests_total counter
traefik_service_requests_total{code="502",method="GET",protocol="http",service="store-my-shop-wordpress-http@kubernetes"} 3
traefik_service_requests_total{code="200",method="GET",protocol="http",service="store-my-shop-wordpress-http@kubernetes"} 4
traefik_service_requests_total{code="503",method="GET",protocol="http",service="store-my-shop-sleep-page-80@kubernetes"} 2
traefik_service_requests_total{code="200",method="GET",protocol="http",service="store-my-wordpress-80@kubernetes"} 5
traefik_service_requests_total{code="200",method="GET",protocol="http",service="store-gone-wordpress-80@kubernetes"} 9
traefik_service_requests_total{code="200",method="GET",protocol="http",service="store-my-shop-web@file"} 7
traefik_service_requests_total{code="200",method="GET",protocol="http",service="prometheus@internal"} 8
# HELP traefik_service_request_duration_seconds How long requests took.
# TYPE traefik_service_request_duration_seconds histogram
traefik_service_request_duration_seconds_bucket{code="200",method="GET",protocol="http",service="store-my-wordpress-80@kubernetes",le="+Inf"} 5
traefik_service_request_duration_seconds_sum{code="200",method="GET",protocol="http",service="store-my-wordpress-80@kubernetes"} 0.5
traefik_service_request_duration_seconds_count{code="200",method="GET",protocol="http",service="store-my-wordpress-80@kubernetes"} 5
"""  # noqa: E501

NGINX = """\
# HELP nginx_ingress_controller_requests The total number of client requests
# TYPE nginx_ingress_controller_requests counter
nginx_ingress_controller_requests{canary="",controller_class="k8s.io/ingress-nginx",controller_namespace="ingress-nginx",controller_pod="c-1",host="my-shop.shops.test",ingress="wordpress",method="GET",namespace="store-my-shop",path="/",service="wordpress",status="200"} 10
nginx_ingress_controller_requests{canary="",controller_class="k8s.io/ingress-nginx",controller_namespace="ingress-nginx",controller_pod="c-1",host="my-shop.shops.test",ingress="wordpress",method="GET",namespace="store-my-shop",path="/",service="sleep-page",status="503"} 1
nginx_ingress_controller_requests{canary="",controller_class="k8s.io/ingress-nginx",controller_namespace="ingress-nginx",controller_pod="c-1",host="x.example.com",ingress="web",method="GET",namespace="default",path="/",service="web",status="200"} 6
"""  # noqa: E501

STORES = {"store-my-shop", "store-my"}


def test_traefik_counts_are_summed_per_store_namespace_the_longest_one_its_service_names() -> None:
    # `store-my-shop-…` is my-shop's, not my's, though both namespaces exist;
    # a namespace no store has, another provider's service and a histogram are not.
    totals = requests_by_namespace(TRAEFIK, "traefik", STORES.__contains__)
    assert totals == {"store-my-shop": 9.0, "store-my": 5.0}


def test_ingress_nginx_counts_are_summed_per_store_namespace() -> None:
    assert requests_by_namespace(NGINX, "nginx", STORES.__contains__) == {"store-my-shop": 11.0}


def test_only_the_stores_whose_counters_grew_are_reported_and_a_reset_counts_anew() -> None:
    before = {"store-a": 10.0, "store-b": 5.0, "store-c": 7.0}
    now = {"store-a": 10.0, "store-b": 8.0, "store-c": 2.0, "store-d": 1.0}
    # a: quiet; b: 3 more; c: the controller restarted, 2 since; d: first requests.
    assert grown(before, now) == {"store-b": 3, "store-c": 2, "store-d": 1}
    assert grown(now, now) == {}
