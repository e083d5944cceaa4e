"""Deterministic costs of the course page (issue 11): cross-plugin calls per target plugin and SQL
statements per plugin database do not grow with the number of courses on the page.

The same counts are reported by ``bench/run.py``; these tests make a regression fail CI. They run
with both transports (the statements of a call over HTTP are counted too: the server is in this
process).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from byway.host import Host
from byway.logs import request_id_var
from byway.settings import Settings
from byway.testing import FailingTransport, error_codes

from .conftest import Actor, World, open_world

PAGE = """
query Page($n: Int!) {
  courses(first: $n) {
    id title priceCents isEnrolled teacher { displayName }
    modules { id title lessons { id title content } }
  }
}"""
CREATE_MODULE = 'mutation M($c: ID!) { createModule(courseId: $c, title: "Module") { id } }'
CREATE_LESSON = 'mutation L($m: ID!) { createLesson(moduleId: $m, title: "Lesson", content: "secret") { id } }'
ENROLL = "mutation E($c: ID!) { enrollMe(courseId: $c) { id } }"


@pytest.fixture
async def world(byway_settings: Settings, database_url: str) -> AsyncIterator[World]:
    """The core plugins on SQLite and on PostgreSQL, where a list of courses asks for the caller's
    enrollments while it reads its courses (teach-internal's ``loaders.Enrollments``)."""
    async with open_world(byway_settings.with_overrides(database_url=database_url)) as w:
        yield w


@contextmanager
def count_statements(host: Host) -> Iterator[Counter[str]]:
    """SQL statements sent to each plugin's database for requests (in-process calls and HTTP
    ones alike carry a request id) inside the block, not by background jobs."""
    counts: Counter[str] = Counter()
    hooked: list[tuple[Any, Any]] = []
    for runtime in host.plugins.values():
        if runtime.database is None:
            continue

        def listener(*_: Any, name: str = runtime.name) -> None:
            request_id = request_id_var.get()
            if request_id != "-" and not request_id.startswith("job-"):
                counts[name] += 1

        for engine in runtime.db.sync_engines:  # sessions' and readers'
            event.listen(engine, "before_cursor_execute", listener)
            hooked.append((engine, listener))
    try:
        yield counts
    finally:
        for engine, listener in hooked:
            event.remove(engine, "before_cursor_execute", listener)


async def catalogue(world: World, courses: int) -> tuple[Actor, list[str]]:
    """``courses`` published free courses with 2 modules of 2 lessons; a student enrolled in every other one."""
    teacher, _ = await world.teacher()
    ids = []
    for _ in range(courses):
        course_id = await world.course(teacher)
        ids.append(course_id)
        for _ in range(2):
            module = await world.gql("teach-internal", CREATE_MODULE, {"c": course_id}, token=teacher.token)
            module_id = module["data"]["createModule"]["id"]
            for _ in range(2):
                lesson = await world.gql("teach-internal", CREATE_LESSON, {"m": module_id}, token=teacher.token)
                assert "errors" not in lesson, lesson
    student = await world.user("student")
    for course_id in ids[::2]:
        body = await world.gql("students-internal", ENROLL, {"c": course_id}, token=student.token)
        assert "errors" not in body, body
    return student, ids


async def page_costs(world: World, student: Actor, first: int) -> tuple[dict[str, Any], Counter[str], Counter[str]]:
    host = world.app.host
    await world.gql("teach-internal", PAGE, {"n": first}, token=student.token)  # warm: connections, caches
    with host.observe_calls() as calls, count_statements(host) as statements:
        body = await world.gql("teach-internal", PAGE, {"n": first}, token=student.token)
    assert "errors" not in body, body
    asked = [call.operation for call in calls if call.target == "students-internal"]
    assert asked == ["EnrolledCourseIds"]  # the caller's enrolled ids, not the page's (loaders.Enrollments)
    return body, Counter(call.target for call in calls), statements


async def test_the_course_page_costs_one_call_per_plugin_and_few_statements_whatever_its_size(world: World) -> None:
    student, ids = await catalogue(world, 6)

    small, small_calls, small_statements = await page_costs(world, student, 2)
    full, full_calls, full_statements = await page_costs(world, student, 50)

    courses = full["data"]["courses"]
    assert [c["id"] for c in courses] == ids
    assert [c["isEnrolled"] for c in courses] == [True, False] * 3
    # Content is gated by the enrollments the one batched call returned.
    contents = [lesson["content"] for c in courses for m in c["modules"] for lesson in m["lessons"]]
    assert contents == (["secret"] * 4 + [None] * 4) * 3
    assert len(small["data"]["courses"]) == 2

    assert {c["teacher"]["displayName"] for c in courses} == {"Test User"}
    # One batched question per plugin per request, however many courses and lessons it covers:
    # the caller's enrollments, and the teachers (user names, then profiles).
    assert full_calls == small_calls == {"students-internal": 1, "authentication": 1, "teach": 1}
    # teach-internal: the page, its modules, their lessons; students-internal: the caller's enrollments.
    assert full_statements == small_statements, (full_statements, small_statements)
    assert full_statements["teach-internal"] <= 3
    assert full_statements["students-internal"] == 1
    assert set(full_statements) == {"teach-internal", "students-internal", "authentication", "teach"}
    assert all(count <= 3 for count in full_statements.values()), full_statements


async def test_an_anonymous_page_asks_no_enrollment(world: World) -> None:
    await catalogue(world, 2)
    host = world.app.host
    with host.observe_calls() as calls, count_statements(host) as statements:
        body = await world.gql("teach-internal", PAGE, {"n": 50})
    assert [c["isEnrolled"] for c in body["data"]["courses"]] == [False, False]
    # No enrollment question for an anonymous caller: only the teachers are asked for.
    assert sorted(call.target for call in calls) == ["authentication", "teach"]
    assert statements["teach-internal"] <= 3 and "students-internal" not in statements


async def test_when_students_internal_is_down_the_page_fails_closed_after_one_call(world: World) -> None:
    student, _ids = await catalogue(world, 3)
    host = world.app.host
    retries = host.settings.client_retries
    with host.override_transport(
        "students-internal", FailingTransport(host.transport_for("students-internal"))
    ) as down:
        with host.observe_calls() as calls:
            body = await world.gql("teach-internal", PAGE, {"n": 50}, token=student.token)
    # One call (retried as any call over HTTP would be), not one per course: the answer of the
    # failed batch is the error of every isEnrolled field.
    assert [call.target for call in calls].count("students-internal") == 1 and down.attempts == 1 + retries
    assert set(error_codes(body)) == {"UPSTREAM_UNAVAILABLE"}
    assert body["data"] is None  # courses: [Course!]! and isEnrolled: Boolean! propagate the null
    assert "secret" not in str(body)
