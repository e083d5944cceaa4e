"""Turning another plugin's refusal into an error that makes sense to our own caller."""

from __future__ import annotations

from byway.client import CrossPluginError
from byway.errors import FORBIDDEN, NOT_FOUND, UNAUTHENTICATED, ByWayError, UpstreamUnavailable, error_class

#: Codes that describe the caller (its token, its rights), so they are passed on as they are.
_CALLER_CODES = {UNAUTHENTICATED, FORBIDDEN, NOT_FOUND}


def upstream_error(exc: CrossPluginError, what: str) -> ByWayError:
    """``what`` failed because another plugin refused: keep caller-related codes, else UPSTREAM_UNAVAILABLE."""
    if exc.code in _CALLER_CODES:
        return error_class(exc.code)(f"{what}: {exc.remote_message}")
    return UpstreamUnavailable(f"{what}: {exc.plugin} answered {exc.code} ({exc.remote_message})", plugin=exc.plugin)
