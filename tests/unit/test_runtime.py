"""Settings and tickets: pure pieces every service leans on."""

import pytest

from services.gateway.settings import GatewaySettings
from services.notifier.settings import NotifierSettings
from services.provisioner.settings import ProvisionerSettings
from services.runtime.service import settings_type
from services.runtime.settings import Settings, SettingsError, load_settings
from services.runtime.tickets import TicketError, sign_ticket, verify_ticket


def test_settings_read_prefixed_environment() -> None:
    settings = load_settings(Settings, {"URUMI_HTTP_PORT": "9000", "URUMI_NATS_URL": "nats://x:1"})
    assert (settings.http_port, settings.nats_url) == (9000, "nats://x:1")


def test_a_service_reads_the_common_and_its_own_variables_only() -> None:
    env = {"URUMI_HTTP_PORT": "9000", "URUMI_PING_INTERVAL_S": "3", "URUMI_KUBECONFIG": "/k"}
    settings = load_settings(NotifierSettings, env)
    assert (settings.http_port, settings.ping_interval_s) == (9000, 3.0)


@pytest.mark.parametrize(
    ("kind", "env", "named"),
    [
        (Settings, {"URUMI_HTTP_PORT": "eighty"}, "URUMI_HTTP_PORT"),
        (Settings, {"URUMI_HTTP_PORT": "70000"}, "URUMI_HTTP_PORT"),
        (ProvisionerSettings, {"URUMI_PROVISION_CONCURRENCY": "0"}, "URUMI_PROVISION_CONCURRENCY"),
        (GatewaySettings, {"URUMI_HTTP_PORT": "-1"}, "URUMI_HTTP_PORT"),
    ],
)
def test_bad_setting_names_the_variable(
    kind: type[Settings], env: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(kind, env)


def test_secrets_stay_out_of_the_repr() -> None:
    settings = GatewaySettings(admin_token="a-token", ticket_secret="t", database_url="pg://u:pw@h")
    shown = repr(settings)
    assert "a-token" not in shown and "pw" not in shown and "ticket_secret='<redacted>'" in shown
    assert dict(settings.__rich_repr__())["admin_token"] == "<redacted>"  # pretty-printers
    assert "ticket_secret='s'" not in repr(NotifierSettings(ticket_secret="s"))


def test_each_service_main_names_its_settings() -> None:
    from services.gateway.main import main as gateway
    from services.notifier.main import main as notifier
    from services.provisioner.main import main as provisioner
    from services.watcher.main import main as watcher
    from services.watcher.settings import WatcherSettings

    assert settings_type(gateway) is GatewaySettings
    assert settings_type(provisioner) is ProvisionerSettings
    assert settings_type(watcher) is WatcherSettings
    assert settings_type(notifier) is NotifierSettings


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
