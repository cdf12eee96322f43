"""Which failures are retried, and which become `failed` with the API's message."""

import json

import aiohttp
import nats.errors
import pytest
from kubernetes_asyncio.client.exceptions import ApiException

from services.provisioner.errors import (
    PermanentError,
    TransientError,
    api_message,
    classify,
    is_immutable_statefulset_change,
)


def api_error(status: int, message: str = "") -> ApiException:
    exc = ApiException(status=status, reason="Reason")
    exc.body = json.dumps({"kind": "Status", "message": message}).encode() if message else None
    return exc


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_transient_statuses(status: int) -> None:
    assert isinstance(classify(api_error(status), "apply"), TransientError)


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_permanent_statuses(status: int) -> None:
    assert isinstance(classify(api_error(status), "apply"), PermanentError)


def test_permanent_message_is_the_api_servers() -> None:
    message = 'Deployment.apps "wordpress" is invalid: spec.replicas: Invalid value: -1'
    err = classify(api_error(422, message), "apply Deployment/wordpress")
    assert str(err) == f"apply Deployment/wordpress: {message}"


def test_terminating_namespace_is_waited_out() -> None:
    exc = api_error(
        403, "unable to create new content in namespace store-x because it is being terminated"
    )
    assert isinstance(classify(exc, "apply"), TransientError)
    assert isinstance(classify(api_error(403, "forbidden: RBAC"), "apply"), PermanentError)


def test_a_statefulset_change_only_a_replacement_can_make_is_recognised() -> None:
    forbidden = (
        'StatefulSet.apps "mariadb" is invalid: spec: Forbidden: updates to statefulset spec '
        "for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy' are forbidden"
    )
    assert is_immutable_statefulset_change(api_error(422, forbidden))
    assert not is_immutable_statefulset_change(api_error(422, "spec.replicas: Invalid value"))
    assert not is_immutable_statefulset_change(api_error(409, forbidden))


@pytest.mark.parametrize(
    "exc",
    [aiohttp.ClientConnectionError("refused"), ConnectionRefusedError(), TimeoutError()],
)
def test_unreachable_is_transient(exc: BaseException) -> None:
    err = classify(exc, "apply Namespace/store-x")
    assert isinstance(err, TransientError)
    assert "unreachable" in str(err)


def test_nats_trouble_is_not_blamed_on_kubernetes() -> None:
    err = classify(nats.errors.TimeoutError(), "provision")  # a progress publish timed out
    assert isinstance(err, TransientError)
    assert str(err) == "provision: event bus (NATS) unreachable (nats: timeout)"


def test_api_message_without_body() -> None:
    assert (
        api_message(ApiException(status=503, reason="Service Unavailable"))
        == "503 Service Unavailable"
    )
