"""Input rules for accounts: email addresses, passwords and names."""

from __future__ import annotations

import re
import unicodedata

from byway.errors import BadUserInput
from byway_authentication.passwords import COMMON_PASSWORDS, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 100
# Pragmatic, not RFC 5322: one "@", no spaces or control characters, a dot in the domain.
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f.]+$")


def normalize_email(email: str) -> str:
    """The form emails are stored unique and compared in: NFKC, trimmed, case-folded.

    NFKC folds compatibility forms (full-width letters, ligatures) into their plain form, so
    full-width ``ada@example.org`` and ``Ada@Example.org`` are one account.
    """
    return unicodedata.normalize("NFKC", email).strip().casefold()


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
    return unicodedata.normalize("NFKC", email).strip()


def check_password(password: str, email: str, field: str = "password") -> None:
    """Refuse a password that is too short or long, all whitespace, very common, or the email itself."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadUserInput(f"The password must have at least {MIN_PASSWORD_LENGTH} characters", field=field)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise BadUserInput(f"The password must have at most {MAX_PASSWORD_LENGTH} characters", field=field)
    if not password.strip():
        raise BadUserInput("The password must not be only spaces", field=field)
    folded = unicodedata.normalize("NFKC", password).strip().casefold()
    if folded in COMMON_PASSWORDS:
        raise BadUserInput("This password is one of the most common ones; choose another", field=field)
    address = normalize_email(email)
    if folded in {address, address.rsplit("@", 1)[0]}:
        raise BadUserInput("The password must not be your email address", field=field)


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
