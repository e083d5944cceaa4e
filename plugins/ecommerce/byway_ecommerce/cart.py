"""Validation of ``createCheckout``'s arguments: the cart, the URLs and the email.

1 to 50 items, quantity 1 (a course is a single seat; a course listed twice counts once), http(s)
success and cancel URLs, a plausible email; anything else is BAD_USER_INPUT naming the argument.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from byway import BadUserInput
from byway_ecommerce.models import EMAIL_MAX, FOREIGN_ID_LENGTH, URL_MAX

MAX_ITEMS = 50
SESSION_PLACEHOLDER = "{CHECKOUT_SESSION_ID}"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def validate_id(value: Any, field: str, what: str) -> str:
    """A non-empty id of at most 64 characters, else BAD_USER_INPUT naming ``field``."""
    if not isinstance(value, str) or not value.strip() or len(value) > FOREIGN_ID_LENGTH:
        raise BadUserInput(f"{what} must be a non-empty id of at most {FOREIGN_ID_LENGTH} characters", field=field)
    return value.strip()


def validate_items(items: Any) -> list[str]:
    """The cart's course ids in order, duplicates dropped (courses are single seats)."""
    if not isinstance(items, list) or not items:
        raise BadUserInput("The cart is empty: add at least one course", field="items")
    if len(items) > MAX_ITEMS:
        raise BadUserInput(f"A checkout holds at most {MAX_ITEMS} courses", field="items")
    course_ids: list[str] = []
    for item in items:
        course_id = validate_id(item.get("courseId"), "items", "courseId")
        quantity = item.get("quantity")
        if quantity is not None and quantity != 1:
            raise BadUserInput(
                f"quantity must be 1 (a course is a single seat), not {quantity} for course {course_id}",
                field="items",
                courseId=course_id,
            )
        if course_id not in course_ids:
            course_ids.append(course_id)
    return course_ids


def validate_url(value: Any, field: str) -> str:
    """An absolute http(s) URL of at most 2048 characters, else BAD_USER_INPUT naming ``field``."""
    if not isinstance(value, str) or not value or len(value) > URL_MAX:
        raise BadUserInput(f"{field} must be an http(s) URL of at most {URL_MAX} characters", field=field)
    if any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise BadUserInput(f"{field} must not contain spaces or control characters", field=field)
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise BadUserInput(f"{field} is not a valid URL", field=field) from exc
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise BadUserInput(f"{field} must be an absolute http:// or https:// URL", field=field)
    return value


def success_url_with_session(url: str) -> str:
    """The success URL with the provider's ``{CHECKOUT_SESSION_ID}`` placeholder (added if missing)."""
    if SESSION_PLACEHOLDER in url:
        return url
    base, hash_mark, fragment = url.partition("#")
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}session_id={SESSION_PLACEHOLDER}{hash_mark}{fragment}"


def validate_email(value: Any) -> str | None:
    """An optional email address (at most 254 characters)."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > EMAIL_MAX or not _EMAIL.match(value.strip()):
        raise BadUserInput("email must be a valid email address", field="email")
    return value.strip()
