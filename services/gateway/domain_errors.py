"""Why the gateway refuses an operation, in its own terms.

The store and tenant services raise these; `errors.domain_handler` is the one
place that turns them into HTTP answers.
"""


class DomainError(Exception):
    """A refusal; `detail` is the sentence the caller reads."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFoundError(DomainError):
    """No such store or tenant (another tenant's store counts as none)."""


class ConflictError(DomainError):
    """The operation clashes with what exists or with the store's lifecycle."""


class QuotaReachedError(DomainError):
    """The tenant has as many live stores as it may."""


class UnavailableError(DomainError):
    """A platform component needed for the answer did not give one."""


class InvalidFieldError(DomainError):
    """A field whose value only the platform's state can refuse (a release its
    catalog lacks); answered like a body that fails validation, naming `field`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"`{field}`: {message}")
        self.field = field
        self.message = message
