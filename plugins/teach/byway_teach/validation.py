"""Input rules for teacher profiles."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from byway import BadUserInput

MAX_BIO_LENGTH = 5000
MAX_SUBJECTS = 20
MAX_SUBJECT_LENGTH = 80
MAX_URL_LENGTH = 2048
MAX_EMAIL_LENGTH = 254
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f.]+$")


def _has_control(value: str, *, allow_newlines: bool = False) -> bool:
    allowed = {"\n", "\r", "\t"} if allow_newlines else set()
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in value)


def clean_bio(bio: str) -> str:
    """The trimmed bio: required, at most 5000 characters."""
    bio = bio.strip()
    if not bio:
        raise BadUserInput("Tell students about yourself: the bio must not be empty", field="bio")
    if len(bio) > MAX_BIO_LENGTH:
        raise BadUserInput(f"The bio must have at most {MAX_BIO_LENGTH} characters", field="bio")
    if _has_control(bio, allow_newlines=True):
        raise BadUserInput("The bio must not contain control characters", field="bio")
    return bio


def clean_subjects(subjects: list[str] | None) -> list[str]:
    """Trimmed, non-empty subjects without repeats (compared case-insensitively), at most 20."""
    cleaned: list[str] = []
    seen: set[str] = set()
    for subject in subjects or []:
        subject = subject.strip()
        if not subject:
            raise BadUserInput("Subjects must not be empty", field="subjects")
        if len(subject) > MAX_SUBJECT_LENGTH or _has_control(subject):
            raise BadUserInput(
                f"Each subject must be at most {MAX_SUBJECT_LENGTH} printable characters", field="subjects"
            )
        if subject.lower() not in seen:
            seen.add(subject.lower())
            cleaned.append(subject)
    if len(cleaned) > MAX_SUBJECTS:
        raise BadUserInput(f"At most {MAX_SUBJECTS} subjects", field="subjects")
    return cleaned


def clean_avatar_url(url: str | None) -> str | None:
    """An absolute http(s) URL (None when empty)."""
    if url is None or not url.strip():
        return None
    url = url.strip()
    message = "The avatar must be an http:// or https:// URL"
    if len(url) > MAX_URL_LENGTH or any(ch.isspace() for ch in url) or _has_control(url):
        raise BadUserInput(message, field="avatarUrl")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a malformed port
    except ValueError as exc:
        raise BadUserInput(message, field="avatarUrl") from exc
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        raise BadUserInput(message, field="avatarUrl")
    return url


def clean_payout_email(email: str | None) -> str | None:
    """A plausible email address (None when empty)."""
    if email is None or not email.strip():
        return None
    email = email.strip()
    domain = email.rsplit("@", 1)[-1]
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email) or domain.startswith(".") or ".." in domain:
        raise BadUserInput("Enter a valid payout email address, like name@example.com", field="payoutEmail")
    return email
