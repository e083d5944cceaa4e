"""Error codes of the public contract and their extensions."""

from __future__ import annotations

import pytest

from byway.errors import (
    ERROR_CODES,
    AlreadyEnrolled,
    BadUserInput,
    ByWayError,
    Conflict,
    Forbidden,
    InternalError,
    NotFound,
    Unauthenticated,
    UpstreamUnavailable,
    error_class,
)


def test_the_codes_of_the_contract() -> None:
    assert ERROR_CODES == {
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "NOT_FOUND",
        "BAD_USER_INPUT",
        "ALREADY_ENROLLED",
        "CONFLICT",
        "UPSTREAM_UNAVAILABLE",
        "RATE_LIMITED",
        "INTERNAL",
    }


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (Unauthenticated, "UNAUTHENTICATED"),
        (Forbidden, "FORBIDDEN"),
        (NotFound, "NOT_FOUND"),
        (BadUserInput, "BAD_USER_INPUT"),
        (Conflict, "CONFLICT"),
        (UpstreamUnavailable, "UPSTREAM_UNAVAILABLE"),
        (InternalError, "INTERNAL"),
    ],
)
def test_each_error_has_its_code_and_a_readable_default_message(cls: type[ByWayError], code: str) -> None:
    error = cls()
    assert error.code == code and error_class(code) is cls
    assert error.to_extensions() == {"code": code}
    assert error.message and str(error) == error.message


def test_extensions() -> None:
    assert BadUserInput("too long", field="title").to_extensions() == {"code": "BAD_USER_INPUT", "field": "title"}
    enrolled = AlreadyEnrolled(course_id="c1", course_title="Algebra")
    assert enrolled.to_extensions() == {"code": "ALREADY_ENROLLED", "courseId": "c1", "courseTitle": "Algebra"}
    assert enrolled.message == "Already enrolled in course: Algebra"
    refs = [{"plugin": "students-internal", "count": 3}]
    assert Conflict("in use", references=refs).to_extensions() == {"code": "CONFLICT", "references": refs}
    assert NotFound("gone", id=None).to_extensions() == {"code": "NOT_FOUND"}  # None extensions are dropped


def test_unknown_code_maps_to_internal() -> None:
    assert error_class("SOMETHING_ELSE") is InternalError
