"""One error body for every failure: status, a sentence, and the fields at fault."""

import logging
import re
from typing import Any, Final

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY, HTTP_500_INTERNAL_SERVER_ERROR

from services.gateway.domain_errors import (
    ConflictError,
    DomainError,
    InvalidFieldError,
    NotFoundError,
    QuotaReachedError,
    UnavailableError,
)
from services.gateway.models import ErrorBody, FieldError

log = logging.getLogger(__name__)

_AT = re.compile(r" - at `\$\.?([^`]*)`")
_MISSING = re.compile(r"missing required field `([^`]+)`")
_UNKNOWN = re.compile(r"unknown field `([^`]+)`")

_STATUS: Final[dict[type[DomainError], int]] = {
    NotFoundError: 404,
    ConflictError: 409,
    QuotaReachedError: 403,
    UnavailableError: 503,
    InvalidFieldError: 422,
}


class TooManyRequests(HTTPException):
    status_code = 429

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail=detail, headers={"Retry-After": str(retry_after)})


def field_of(message: str) -> str:
    for pattern in (_AT, _MISSING, _UNKNOWN):
        found = pattern.search(message)
        if found:
            return found.group(1).split(".")[0].split("[")[0] or "body"
    return "body"


def _field_errors(exc: ValidationException) -> list[FieldError]:
    extra: Any = exc.extra
    items = extra if isinstance(extra, list) else []
    errors = []
    for item in items:
        message = str(item.get("message", "")) if isinstance(item, dict) else str(item)
        key = item.get("key") if isinstance(item, dict) else None
        field = field_of(message) if field_of(message) != "body" else (key or "body")
        errors.append(FieldError(field=str(field), message=_AT.sub("", message)))
    return errors or [FieldError(field=field_of(exc.detail), message=_AT.sub("", exc.detail))]


def validation_handler(_: Request[Any, Any, Any], exc: ValidationException) -> Response[ErrorBody]:
    errors = _field_errors(exc)
    detail = "; ".join(f"`{e.field}`: {e.message}" for e in errors)
    return Response(
        ErrorBody(status_code=422, detail=f"invalid request: {detail}", errors=errors),
        status_code=HTTP_422_UNPROCESSABLE_ENTITY,
    )


def http_handler(_: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
    return Response(
        ErrorBody(status_code=exc.status_code, detail=exc.detail),
        status_code=exc.status_code,
        headers=exc.headers,
    )


def domain_handler(_: Request[Any, Any, Any], exc: DomainError) -> Response[ErrorBody]:
    status = next(code for kind, code in _STATUS.items() if isinstance(exc, kind))
    if isinstance(exc, InvalidFieldError):
        fields = [FieldError(field=exc.field, message=exc.message)]
        body = ErrorBody(status, f"invalid request: {exc.detail}", fields)
        return Response(body, status_code=status)
    return Response(ErrorBody(status_code=status, detail=exc.detail), status_code=status)


def internal_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    log.exception("unhandled error", extra={"path": request.url.path}, exc_info=exc)
    return Response(
        ErrorBody(status_code=500, detail="internal error; it was logged, retry shortly"),
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
    )
