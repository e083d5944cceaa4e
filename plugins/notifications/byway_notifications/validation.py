"""Input rules of ``sendEmail``: one plausible address, header-safe subject, bounded bodies."""

from __future__ import annotations

import re
import unicodedata

from byway.errors import BadUserInput

MAX_SUBJECT = 300
MAX_TEXT = 100_000
MAX_HTML = 300_000
MAX_KEY = 200
# One address, no display name, no spaces, commas, angle brackets or control characters.
_CHAR = r"[^@\s,;<>()\"\x00-\x1f\x7f]"
_ADDRESS = re.compile(rf"^{_CHAR}{{1,64}}@{_CHAR}+\.(?:(?!\.){_CHAR})+$")


def _has_control(value: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in value)


def clean_address(to: str) -> str:
    """The trimmed address, or BAD_USER_INPUT (field ``to``)."""
    to = to.strip()
    if len(to) > 254 or not _ADDRESS.match(to):
        raise BadUserInput("'to' must be one email address, like name@example.com", field="to")
    return to


def clean_subject(subject: str) -> str:
    """A one-line subject (no CR/LF: nothing can be smuggled into the headers)."""
    subject = subject.strip()
    if not subject or len(subject) > MAX_SUBJECT or "\n" in subject or "\r" in subject or _has_control(subject):
        raise BadUserInput(f"The subject must be one line of 1 to {MAX_SUBJECT} characters", field="subject")
    return subject


def clean_body(value: str | None, field: str, limit: int, *, required: bool) -> str | None:
    """A body within ``limit`` characters (``text`` is required, ``html`` optional)."""
    if value is None or (not value.strip() and not required):
        return None
    if not value.strip():
        raise BadUserInput(f"'{field}' must not be empty", field=field)
    if len(value) > limit:
        raise BadUserInput(f"'{field}' must have at most {limit} characters", field=field)
    return value


def clean_key(key: str | None) -> str | None:
    """An idempotency key of at most 200 characters (None when absent)."""
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_KEY:
        raise BadUserInput(f"'key' must have 1 to {MAX_KEY} characters", field="key")
    return key
