"""Schemathesis hooks for Byway (loaded with SCHEMATHESIS_HOOKS=byway_checks).

schemathesis's ``not_a_server_error`` counts every GraphQL ``errors`` entry as a server failure,
but Byway answers refusals (UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, ...) that way
by design. ``byway_no_server_error`` fails only on what a client must never cause: an HTTP 5xx, a
body that is not JSON, an error without a code of the public contract, or an ``INTERNAL`` error.
"""

from __future__ import annotations

from typing import Any

import schemathesis

#: The codes of docs/API.md.
API_CODES = {
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "BAD_USER_INPUT",
    "ALREADY_ENROLLED",
    "CONFLICT",
    "UPSTREAM_UNAVAILABLE",
    "RATE_LIMITED",
}


@schemathesis.check
def byway_no_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    """No 5xx, always JSON, and every error carries a client-side code of the API (never INTERNAL)."""
    if response.status_code >= 500:
        raise AssertionError(f"HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError as exc:
        raise AssertionError(f"HTTP {response.status_code} with a body that is not JSON") from exc
    for error in (body.get("errors") or []) if isinstance(body, dict) else []:
        code = (error.get("extensions") or {}).get("code")
        if code not in API_CODES:
            raise AssertionError(f"error code {code!r}: {error.get('message')}")
    return None
