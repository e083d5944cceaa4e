"""Input rules for accounts: email addresses, passwords and names."""

from __future__ import annotations

import re
import unicodedata

from byway.errors import BadUserInput
from byway_authentication.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 100
# Pragmatic, not RFC 5322: one "@", no spaces or control characters, a dot in the domain.
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f.]+$")


def normalize_email(email: str) -> str:
    """The form emails are compared in: NFC, trimmed, lower-cased."""
    return unicodedata.normalize("NFC", email).strip().lower()


def is_valid_email(email: str) -> bool:
    """True for a plausible address (trimmed input)."""
    email = email.strip()
    if not email or len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        return False
    domain = email.rsplit("@", 1)[1]
    return not domain.startswith(".") and ".." not in domain


def clean_email(email: str, field: str = "email") -> str:
    """The trimmed email, or :class:`BadUserInput` naming ``field``."""
    if not is_valid_email(email):
        raise BadUserInput("Enter a valid email address, like name@example.com", field=field)
    return unicodedata.normalize("NFC", email).strip()


def check_password(password: str, field: str = "password") -> None:
    """Refuse passwords shorter than 8 or longer than 1024 characters."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadUserInput(f"The password must have at least {MIN_PASSWORD_LENGTH} characters", field=field)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise BadUserInput(f"The password must have at most {MAX_PASSWORD_LENGTH} characters", field=field)


def clean_name(value: str | None, field: str) -> str | None:
    """A trimmed name (None when empty), or :class:`BadUserInput` when too long or not printable."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > MAX_NAME_LENGTH:
        raise BadUserInput(f"{field} must have at most {MAX_NAME_LENGTH} characters", field=field)
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise BadUserInput(f"{field} must not contain control characters", field=field)
    return value
