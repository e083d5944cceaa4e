"""Error codes of the public contract (``extensions.code``, listed in the README) as exceptions.

Resolvers and REST endpoints raise these; the host turns them into GraphQL errors whose
``extensions.code`` is the error's :attr:`ByWayError.code`. Any other exception becomes
``INTERNAL`` with no detail unless debug is on.
"""

from __future__ import annotations

from typing import Any

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
NOT_FOUND = "NOT_FOUND"
BAD_USER_INPUT = "BAD_USER_INPUT"
ALREADY_ENROLLED = "ALREADY_ENROLLED"
CONFLICT = "CONFLICT"
UPSTREAM_UNAVAILABLE = "UPSTREAM_UNAVAILABLE"
RATE_LIMITED = "RATE_LIMITED"
INTERNAL = "INTERNAL"

#: Every code a client may see in ``extensions.code``.
ERROR_CODES = frozenset(
    {
        UNAUTHENTICATED,
        FORBIDDEN,
        NOT_FOUND,
        BAD_USER_INPUT,
        ALREADY_ENROLLED,
        CONFLICT,
        UPSTREAM_UNAVAILABLE,
        RATE_LIMITED,
        INTERNAL,
    }
)


class ByWayError(Exception):
    """A refusal a client may see: a readable message, a code and extra extensions."""

    code: str = INTERNAL
    default_message: str = "Internal server error"

    def __init__(self, message: str | None = None, **extensions: Any) -> None:
        self.message = message or self.default_message
        self.extensions: dict[str, Any] = {k: v for k, v in extensions.items() if v is not None}
        super().__init__(self.message)

    def to_extensions(self) -> dict[str, Any]:
        """The ``extensions`` object of the GraphQL error: the code first, then the extras."""
        return {"code": self.code, **self.extensions}


class Unauthenticated(ByWayError):
    """No token, or a bad or expired one, where a caller must be known."""

    code = UNAUTHENTICATED
    default_message = "Authentication required"


class Forbidden(ByWayError):
    """A known caller that is not allowed to do this."""

    code = FORBIDDEN
    default_message = "You are not allowed to do this"


class NotFound(ByWayError):
    """The object does not exist (or the caller may not know it exists)."""

    code = NOT_FOUND
    default_message = "Not found"


class BadUserInput(ByWayError):
    """Invalid input; ``field`` names the offending argument."""

    code = BAD_USER_INPUT
    default_message = "Invalid input"

    def __init__(self, message: str | None = None, *, field: str | None = None, **ext: Any) -> None:
        super().__init__(message, field=field, **ext)


class AlreadyEnrolled(ByWayError):
    """The buyer already owns the course; carries its id and title."""

    code = ALREADY_ENROLLED
    default_message = "Already enrolled in this course"

    def __init__(self, message: str | None = None, *, course_id: str, course_title: str | None) -> None:
        super().__init__(
            message or f"Already enrolled in course: {course_title or course_id}",
            courseId=course_id,
            courseTitle=course_title,
        )


class Conflict(ByWayError):
    """The operation conflicts with existing state, e.g. a delete restricted by references."""

    code = CONFLICT
    default_message = "Conflict with existing data"

    def __init__(self, message: str | None = None, *, references: Any = None, **ext: Any) -> None:
        super().__init__(message, references=references, **ext)


class UpstreamUnavailable(ByWayError):
    """Another plugin could not be reached after retries."""

    code = UPSTREAM_UNAVAILABLE
    default_message = "A required service is unavailable"


class RateLimited(ByWayError):
    """Too many attempts: ``retryAfterSeconds`` says when to try again (HTTP 429 on REST)."""

    code = RATE_LIMITED
    default_message = "Too many attempts; try again later"

    def __init__(self, message: str | None = None, *, retry_after_seconds: int | None = None, **ext: Any) -> None:
        retry = None if retry_after_seconds is None else max(1, int(retry_after_seconds))
        super().__init__(message, retryAfterSeconds=retry, **ext)

    @property
    def retry_after_seconds(self) -> int | None:
        """Seconds until the caller may try again (None when unknown)."""
        value = self.extensions.get("retryAfterSeconds")
        return int(value) if value is not None else None


class InternalError(ByWayError):
    """An unexpected failure; its detail is only shown in debug mode."""

    code = INTERNAL


_BY_CODE: dict[str, type[ByWayError]] = {
    cls.code: cls
    for cls in (
        Unauthenticated,
        Forbidden,
        NotFound,
        BadUserInput,
        Conflict,
        UpstreamUnavailable,
        RateLimited,
        InternalError,
    )
}


def error_class(code: str) -> type[ByWayError]:
    """The exception class for a code (``INTERNAL`` for unknown ones)."""
    return _BY_CODE.get(code, InternalError)
