"""Input validation of ``teach-internal``: every argument a client sends is checked here.

Each ``clean_*`` returns the value to store or raises ``BAD_USER_INPUT`` naming the argument.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import byway
from byway_teach_internal.models import (
    CATEGORY_MAX,
    CONTENT_MAX,
    DESCRIPTION_MAX,
    DIFFICULTIES,
    LESSON_TYPES,
    TITLE_MAX,
    URL_MAX,
)

DEFAULT_CURRENCY = "USD"
#: The longest lesson: a day, in seconds.
DURATION_MAX = 24 * 60 * 60
_CURRENCY = re.compile(r"[A-Z]{3}")


def clean_title(value: str, field: str = "title") -> str:
    """A title without surrounding blanks, 1 to 200 characters."""
    title = value.strip()
    if not title:
        raise byway.BadUserInput(f"{field} must not be empty", field=field)
    if len(title) > TITLE_MAX:
        raise byway.BadUserInput(f"{field} must be at most {TITLE_MAX} characters", field=field)
    return title


def clean_description(value: str | None) -> str | None:
    """An optional description of at most 10,000 characters."""
    if value is not None and len(value) > DESCRIPTION_MAX:
        raise byway.BadUserInput(f"description must be at most {DESCRIPTION_MAX} characters", field="description")
    return value


def clean_content(value: str | None) -> str | None:
    """Optional lesson content of at most 100,000 characters."""
    if value is not None and len(value) > CONTENT_MAX:
        raise byway.BadUserInput(f"content must be at most {CONTENT_MAX} characters", field="content")
    return value


def clean_price(value: int) -> int:
    """A price in minor units: a non-negative integer."""
    if value < 0:
        raise byway.BadUserInput("priceCents must not be negative", field="priceCents")
    return value


def clean_currency(value: str | None) -> str:
    """An ISO 4217-style code of three letters, upper-cased (``USD`` when omitted)."""
    if value is None:
        return DEFAULT_CURRENCY
    code = value.strip().upper()
    if not _CURRENCY.fullmatch(code):
        raise byway.BadUserInput("currency must be a three-letter ISO code such as USD", field="currency")
    return code


def clean_category(value: str | None) -> str | None:
    """A category trimmed of blanks, at most 60 characters; blank means none."""
    if value is None:
        return None
    category = " ".join(value.split())
    if len(category) > CATEGORY_MAX:
        raise byway.BadUserInput(f"category must be at most {CATEGORY_MAX} characters", field="category")
    return category or None


def clean_choice(value: Any, choices: tuple[str, ...], field: str) -> str | None:
    """One of ``choices`` or None (GraphQL has already checked enum values; this guards other paths)."""
    if value is None:
        return None
    if value not in choices:
        raise byway.BadUserInput(f"{field} must be one of {', '.join(choices)}", field=field)
    return str(value)


def clean_difficulty(value: Any) -> str | None:
    """``BEGINNER``, ``INTERMEDIATE``, ``ADVANCED`` or None."""
    return clean_choice(value, DIFFICULTIES, "difficulty")


def clean_lesson_type(value: Any) -> str | None:
    """``TEXT``, ``VIDEO``, ``QUIZ`` or None."""
    return clean_choice(value, LESSON_TYPES, "type")


def clean_url(value: str | None, field: str) -> str | None:
    """An absolute http(s) URL with a host, at most 2000 characters; blank means none."""
    if value is None or not value.strip():
        return None
    url = value.strip()
    if len(url) > URL_MAX:
        raise byway.BadUserInput(f"{field} must be at most {URL_MAX} characters", field=field)
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not host or any(c.isspace() for c in url):
        raise byway.BadUserInput(f"{field} must be an absolute http(s) URL", field=field)
    return url


def clean_duration(value: int | None) -> int | None:
    """A duration in seconds: 0 to a day, or None."""
    if value is not None and not 0 <= value <= DURATION_MAX:
        raise byway.BadUserInput(f"duration must be between 0 and {DURATION_MAX} seconds", field="duration")
    return value


#: updateCourse/updateLesson argument -> (column, cleaner, may be cleared with null).
COURSE_FIELDS: dict[str, tuple[str, Any, bool]] = {
    "title": ("title", clean_title, False),
    "description": ("description", clean_description, True),
    "priceCents": ("price_cents", clean_price, False),
    "currency": ("currency", clean_currency, False),
    "published": ("published", bool, False),
    "category": ("category", clean_category, True),
    "difficulty": ("difficulty", clean_difficulty, True),
    "coverUrl": ("cover_url", lambda v: clean_url(v, "coverUrl"), True),
}
LESSON_FIELDS: dict[str, tuple[str, Any, bool]] = {
    "title": ("title", clean_title, False),
    "content": ("content", clean_content, True),
    "preview": ("preview", bool, False),
    "type": ("type", clean_lesson_type, False),
    "duration": ("duration", clean_duration, True),
    "videoUrl": ("video_url", lambda v: clean_url(v, "videoUrl"), True),
}


def changes(arguments: dict[str, Any], fields: dict[str, tuple[str, Any, bool]]) -> dict[str, Any]:
    """Column values for the given arguments: omitted ones are left alone, null clears where allowed."""
    values: dict[str, Any] = {}
    for argument, value in arguments.items():
        column, clean, clearable = fields[argument]
        if value is None and not clearable:
            continue
        values[column] = None if value is None else clean(value)
    return values
