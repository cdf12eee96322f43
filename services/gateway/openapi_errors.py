"""Error responses as documented in the OpenAPI schema (they all share ErrorBody)."""

from typing import Final

from litestar.openapi.datastructures import ResponseSpec

from services.gateway.models import ErrorBody

_WHY: Final = {
    400: "Malformed JSON body",
    401: "Missing or unknown token",
    403: "Not allowed for this token, or the store quota is reached",
    404: "No such store (or another tenant's)",
    409: "Conflicts with an existing store or tenant, or the store is not ready yet",
    413: "Request body too large",
    422: "A field breaks a rule; `errors` names each field",
    429: "Rate limit reached; see Retry-After",
    503: "A platform component did not answer; retry shortly",
}


def errors(*codes: int) -> dict[int, ResponseSpec]:
    """ResponseSpecs for `codes` plus those any authenticated call with input can answer."""
    wanted = sorted({400, 401, 403, 422, 429, *codes})
    return {
        code: ResponseSpec(
            data_container=ErrorBody, description=_WHY[code], generate_examples=False
        )
        for code in wanted
    }
