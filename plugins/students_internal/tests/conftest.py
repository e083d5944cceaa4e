"""Fixtures for students-internal's tests.

Enrollments need real courses, so the app runs students-internal with teach-internal, plus
``byway.testing``'s fake ``teach`` (teach-internal's ``createCourse`` asks it for the caller's
verified teacher profile) so these tests do not depend on the real one. Callers are named by role
(``byway.testing.WHO``); ``service`` is ecommerce's service token.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import byway_students_internal.plugin as students_internal
import byway_teach_internal.plugin as teach_internal
import pytest
import pytest_asyncio

from byway.settings import Settings
from byway.testing import Callers, FakeAuthentication, FakeTeach, make_settings, running_app

SI = "students-internal"
TI = "teach-internal"


class World(Callers):
    """The standard callers (:class:`byway.testing.Callers`) and helpers that create courses and enrollments."""

    async def course(self, *, price: int = 0, published: bool = True, title: str = "Course") -> str:
        """The id of a new course of the owner (published, free by default)."""
        data = await self.ok(
            TI,
            "mutation($t: String!, $p: Int!) { createCourse(title: $t, priceCents: $p) { id } }",
            {"t": title, "p": price},
            as_="owner",
        )
        course_id: str = data["createCourse"]["id"]
        if published:
            await self.ok(
                TI,
                "mutation($id: ID!) { updateCourse(id: $id, published: true) { id } }",
                {"id": course_id},
                as_="owner",
            )
        return course_id

    async def lessons(self, course_id: str, count: int, *, module_title: str = "Module") -> list[str]:
        """``count`` new lessons (ids, in order) in a new module of the owner's course."""
        data = await self.ok(
            TI,
            "mutation($c: ID!, $t: String!) { createModule(courseId: $c, title: $t) { id } }",
            {"c": course_id, "t": module_title},
            as_="owner",
        )
        module_id = data["createModule"]["id"]
        ids: list[str] = []
        for n in range(count):
            data = await self.ok(
                TI,
                'mutation($m: ID!, $t: String!) { createLesson(moduleId: $m, title: $t, content: "c") { id } }',
                {"m": module_id, "t": f"Lesson {n + 1}"},
                as_="owner",
            )
            ids.append(data["createLesson"]["id"])
        return ids

    async def student_id(self, who: str) -> str:
        """The student id of a test user (registered by a service if needed)."""
        data = await self.ok(
            SI, "mutation($u: ID!) { registerStudent(userId: $u) { id } }", {"u": self.user_id(who)}, as_="service"
        )
        student_id: str = data["registerStudent"]["id"]
        return student_id

    async def enroll(self, who: str, course_id: str) -> dict[str, Any]:
        """Enroll a test user in any course as a service does (ecommerce after payment)."""
        data = await self.ok(
            SI,
            "mutation($s: ID!, $c: ID!) { enrollStudent(studentId: $s, courseId: $c) { id studentId courseId } }",
            {"s": await self.student_id(who), "c": course_id},
            as_="service",
        )
        enrollment: dict[str, Any] = data["enrollStudent"]
        return enrollment


WorldFactory = Callable[..., AbstractAsyncContextManager[World]]


@pytest.fixture
def open_world(byway_settings: Settings) -> WorldFactory:
    """``async with open_world(*extra_plugins, settings=...) as world``: a world with more plugins."""

    @asynccontextmanager
    async def factory(*extra: Any, settings: Settings | None = None) -> AsyncIterator[World]:
        plugins = [students_internal, teach_internal, FakeTeach(), *extra]
        async with running_app(plugins, settings or byway_settings) as app:
            yield World(app)

    return factory


@pytest.fixture
async def world(open_world: WorldFactory) -> AsyncIterator[World]:
    """A running app with students-internal, teach-internal and the fake teach."""
    async with open_world() as w:
        yield w


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """One app for a whole test module (tests must create their own data): keeps big tables fast."""
    settings = make_settings(Path(tmp_path_factory.mktemp("data")))
    async with running_app([students_internal, teach_internal, FakeTeach()], settings) as app:
        yield World(app)


@pytest.fixture
def fake_authentication() -> FakeAuthentication:
    """A fresh fake authentication plugin (add it with ``open_world(fake_authentication)``)."""
    return FakeAuthentication()
