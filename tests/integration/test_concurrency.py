"""Simultaneous requests with the real plugins, on SQLite and on Postgres: one row, the same answer to all.

* 20 ``enrollMe`` at once for one free course by one new user: 20 successes with the same enrollment
  (and one Student created on the way), exactly one enrollment row, seen through ``myCourses`` (as the
  user) and ``courseEnrollmentCount`` (as a service).
* 20 ``register`` at once with the same email (in different letter cases): exactly one account,
  every other caller gets ``BAD_USER_INPUT`` on ``email``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from byway.settings import Settings
from byway.testing import error_codes

from .conftest import World, open_world

AUTH, SI = "authentication", "students-internal"
N = 20

ENROLL_ME = "mutation E($c: ID!) { enrollMe(courseId: $c) { id studentId courseId } }"
REGISTER = "mutation R($e: String!, $p: String!) { register(email: $e, password: $p) { token user { id email } } }"
LOGIN = "mutation L($e: String!, $p: String!) { login(email: $e, password: $p) { user { id } } }"


@pytest.fixture
async def db_world(byway_settings: Settings, database_url: str) -> AsyncIterator[World]:
    """The four core plugins on SQLite files or on Postgres databases (parametrised)."""
    async with open_world(byway_settings.with_overrides(database_url=database_url)) as world:
        yield world


async def test_simultaneous_enroll_me_give_one_enrollment(db_world: World) -> None:
    world = db_world
    teacher, _ = await world.teacher()
    course = await world.course(teacher, price=0)
    student = await world.user("student")  # no Student row yet: the student upsert races too

    with world.app.host.observe_calls() as calls:
        bodies = await asyncio.gather(*(world.gql(SI, ENROLL_ME, {"c": course}, token=student.token) for _ in range(N)))

    assert [(b["_status"], error_codes(b)) for b in bodies] == [(200, [])] * N, bodies
    enrollments = {(e["id"], e["studentId"], e["courseId"]) for e in (b["data"]["enrollMe"] for b in bodies)}
    assert len(enrollments) == 1, enrollments
    ((enrollment_id, student_id, course_id),) = enrollments
    assert course_id == course
    # Every request really asked teach-internal about the course, as the user.
    to_courses = [c for c in calls if c.target == "teach-internal"]
    assert len(to_courses) == N and {c.as_kind for c in to_courses} == {"user"}

    my_student = await world.gql(SI, "{ myStudent { id userId } }", token=student.token)
    assert my_student["data"]["myStudent"] == {"id": student_id, "userId": student.user_id}
    mine = await world.gql(SI, "{ myCourses { id studentId courseId } }", token=student.token)
    assert mine["data"]["myCourses"] == [{"id": enrollment_id, "studentId": student_id, "courseId": course}]
    count = await world.gql(
        SI, "query C($c: ID!) { courseEnrollmentCount(courseId: $c) }", {"c": course}, token=world.service_token()
    )
    assert count["data"] == {"courseEnrollmentCount": 1}


async def test_simultaneous_register_same_email_gives_one_account(db_world: World) -> None:
    world = db_world
    password = "correct horse battery"
    emails = ["race@example.com" if i % 2 else "Race@Example.COM" for i in range(N)]
    bodies = await asyncio.gather(*(world.gql(AUTH, REGISTER, {"e": e, "p": password}) for e in emails))

    winners = [b for b in bodies if not b.get("errors")]
    losers = [b for b in bodies if b.get("errors")]
    assert len(winners) == 1, bodies
    assert [error_codes(b) for b in losers] == [["BAD_USER_INPUT"]] * (N - 1)
    assert {b["errors"][0]["extensions"]["field"] for b in losers} == {"email"}
    assert all(b["data"] is None for b in losers)

    # The one account is the winner's, whatever the case of the address used to log in.
    winner_id = winners[0]["data"]["register"]["user"]["id"]
    for email in ("race@example.com", "RACE@example.com"):
        body = await world.gql(AUTH, LOGIN, {"e": email, "p": password})
        assert body["data"]["login"]["user"]["id"] == winner_id, body
