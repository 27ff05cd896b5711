"""Typed failures every platform adapter raises; the sync worker decides retries from these."""

from __future__ import annotations


class PlatformError(Exception):
    """Base class: something went wrong talking to the platform."""

    retryable = False

    def __init__(
        self, message: str, *, status: int | None = None, code: int | str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code  # the platform's own error code (ThingsMatrix 14407, "NO_DEVICE")


class AuthError(PlatformError):
    """Credentials rejected, or a fresh token was refused again."""


class NotFound(PlatformError):
    """The thing or group does not exist in this platform stack."""


class ValidationFailed(PlatformError):
    """The platform rejected the request as invalid; retrying cannot fix it."""


class Conflict(PlatformError):
    """The platform refused because of existing state (e.g. duplicate group id)."""


class RateLimited(PlatformError):
    """429: slow down; retry after `retry_after` seconds when given."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message, status=429)
        self.retry_after = retry_after


class Unavailable(PlatformError):
    """Network error, timeout or 5xx.

    `outcome_unknown`: a write may have been applied. `in_flight`: it may also still be on its
    way, because nothing that answered had finished with it (we timed out, the connection
    dropped, or API Gateway gave up waiting for its integration with a 504); such a write can
    land until the platform's in-flight bound has passed since it was sent. A 500, 502 or 503
    comes from the service (or says it was never reached): whatever happened has happened.
    """

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        outcome_unknown: bool = False,
        in_flight: bool = False,
        code: int | str | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.outcome_unknown = outcome_unknown
        self.in_flight = in_flight and outcome_unknown


class MalformedResponse(PlatformError):
    """The platform answered 2xx with a body we cannot read; the outcome of a write is unknown."""

    retryable = True
    outcome_unknown = True
    in_flight = False  # the platform answered: it has finished with the request


class NotSupported(ValidationFailed):
    """The configured platform has no equivalent of this call (see its declared capabilities)."""
