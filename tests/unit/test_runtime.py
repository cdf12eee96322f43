"""Settings and tickets: pure pieces every service leans on."""

import pytest

from services.runtime.settings import SettingsError, load_settings
from services.runtime.tickets import TicketError, sign_ticket, verify_ticket


def test_settings_read_prefixed_environment() -> None:
    settings = load_settings({"URUMI_HTTP_PORT": "9000", "URUMI_NATS_URL": "nats://x:1"})
    assert (settings.http_port, settings.nats_url) == (9000, "nats://x:1")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"URUMI_HTTP_PORT": "eighty"}, "URUMI_HTTP_PORT"),
        ({"URUMI_HTTP_PORT": "70000"}, "URUMI_HTTP_PORT"),
        ({"URUMI_PROVISION_CONCURRENCY": "0"}, "URUMI_PROVISION_CONCURRENCY"),
    ],
)
def test_bad_setting_names_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(env)


def test_ticket_round_trip_and_expiry() -> None:
    ticket = sign_ticket("secret", "acme", ttl_s=60, now=1000)
    assert verify_ticket("secret", ticket, now=1030) == "acme"
    with pytest.raises(TicketError, match="expired"):
        verify_ticket("secret", ticket, now=1061)


def test_ticket_cannot_be_forged_for_another_tenant() -> None:
    ticket = sign_ticket("secret", "acme", ttl_s=60, now=1000)
    other = sign_ticket("secret", "globex", ttl_s=60, now=1000)
    forged = other.split(".")[0] + "." + ticket.split(".")[1]
    with pytest.raises(TicketError, match="signature"):
        verify_ticket("secret", forged, now=1000)
    with pytest.raises(TicketError, match="signature"):
        verify_ticket("other-secret", ticket, now=1000)
