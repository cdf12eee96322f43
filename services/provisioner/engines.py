"""Engine → how to build its store: chart, values, generated secrets. Data, so a
new engine (Medusa) is one more entry."""

import secrets
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Final, NamedTuple

from services.contracts.store import Engine, StoreSpec
from services.provisioner.errors import PermanentError
from services.provisioner.medusa_values import medusa_values
from services.provisioner.settings import ProvisionerSettings
from services.provisioner.values import StoreIngress, Values, woocommerce_values

ValuesFn = Callable[[StoreSpec, int, datetime, StoreIngress], Values]

# The Secret the provisioner creates once per store; charts reference it by name.
SECRET_NAME: Final = "store-credentials"  # noqa: S105 - a name, not a value


def _password() -> str:
    return secrets.token_urlsafe(24)


class EngineDef(NamedTuple):
    chart: str  # directory under the charts root
    values: ValuesFn
    # Secret keys generated once, with their generators.
    secret: Mapping[str, Callable[[], str]]
    admin_user_key: str
    admin_password_key: str
    admin_path: str  # the admin UI under the store's host


WOOCOMMERCE: Final = EngineDef(
    chart="woocommerce",
    values=woocommerce_values,
    secret={
        "mariadb-root-password": _password,
        "mariadb-password": _password,
        "wordpress-admin-user": lambda: "admin",
        "wordpress-admin-password": _password,
    },
    admin_user_key="wordpress-admin-user",
    admin_password_key="wordpress-admin-password",  # noqa: S106 - a key name
    admin_path="/wp-admin/",
)

# Medusa signs in with an email; each store has its own database, so one
# address serves every store.
MEDUSA_ADMIN_EMAIL: Final = "admin@urumi.local"

MEDUSA: Final = EngineDef(
    chart="medusa",
    values=medusa_values,
    secret={
        "postgres-password": _password,
        "redis-password": _password,
        "medusa-jwt-secret": lambda: secrets.token_urlsafe(48),
        "medusa-cookie-secret": lambda: secrets.token_urlsafe(48),
        "medusa-admin-email": lambda: MEDUSA_ADMIN_EMAIL,
        "medusa-admin-password": _password,
    },
    admin_user_key="medusa-admin-email",
    admin_password_key="medusa-admin-password",  # noqa: S106 - a key name
    admin_path="/app/",
)

ENGINES: Final[Mapping[Engine, EngineDef]] = {
    Engine.WOOCOMMERCE: WOOCOMMERCE,
    Engine.MEDUSA: MEDUSA,
}

# charts/ beside services/ in a checkout or an installed image.
DEFAULT_CHARTS: Final = Path(__file__).resolve().parents[2] / "charts"


def engine_for(engine: Engine) -> EngineDef:
    try:
        return ENGINES[engine]
    except KeyError:
        supported = ", ".join(sorted(e.value for e in ENGINES))
        raise PermanentError(
            f"engine '{engine.value}' is not available on this platform yet "
            f"(supported: {supported})"
        ) from None


def chart_path(settings: ProvisionerSettings, engine: EngineDef) -> Path:
    root = Path(settings.charts_dir) if settings.charts_dir else DEFAULT_CHARTS
    return root / engine.chart


def generate_secret(engine: EngineDef) -> dict[str, str]:
    return {key: make() for key, make in engine.secret.items()}
