"""Forms as browsers send them: ``application/x-www-form-urlencoded``, read with a size limit."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

from byway import read_body
from byway.web import PayloadTooLarge

#: Largest form body accepted (lesson content is the biggest field).
MAX_FORM_BYTES = 256 * 1024


class Form:
    """A submitted ``application/x-www-form-urlencoded`` form."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs
        self._first: dict[str, str] = {}
        for key, value in pairs:
            self._first.setdefault(key, value)

    def get(self, key: str, default: str = "") -> str:
        """The first value of ``key`` (``default`` when absent)."""
        return self._first.get(key, default)

    def text(self, key: str) -> str:
        """The value of ``key`` with surrounding white space removed."""
        return self.get(key).strip()

    def checked(self, key: str) -> bool:
        """Whether a checkbox was ticked."""
        return key in self._first

    def getlist(self, key: str) -> list[str]:
        """Every value of ``key``, in order."""
        return [v for k, v in self._pairs if k == key]

    def values(self) -> dict[str, str]:
        """Every field's first value (to re-fill a form after an error)."""
        return dict(self._first)


class BadRequest(Exception):
    """A request the storefront cannot read (400)."""


async def read_form(request: Request) -> Form:
    """The request's form; :class:`BadRequest` for another media type, bad encoding or NUL bytes."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise BadRequest("Forms must be sent as application/x-www-form-urlencoded")
    try:
        body = await read_body(request, MAX_FORM_BYTES)
    except PayloadTooLarge as exc:
        raise BadRequest("The form is too large") from exc
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=500, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest("The form could not be read") from exc
    if any("\x00" in k or "\x00" in v for k, v in pairs):
        raise BadRequest("The form could not be read")
    return Form(pairs)
