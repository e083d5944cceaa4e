"""Fixtures for teach-internal's tests.

The app runs teach-internal and students-internal (deletes and ``isEnrolled`` need it) with
``byway.testing``'s fake ``teach`` (profiles of the standard people, ``PEOPLE``), so these tests
do not depend on the real one; its fake ``authentication`` can be added for ``Course.teacher``.
Callers are named by role (``byway.testing.WHO``); ``service`` is ecommerce's service token.
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

COURSE_FIELDS = "id teacherId title description priceCents currency published createdAt"


class World(Callers):
    """The standard callers (:class:`byway.testing.Callers`) and helpers that create courses, lessons, enrollments."""

    async def create_course(
        self, *, owner: str = "owner", title: str = "Course", price: int = 0, published: bool = True
    ) -> dict[str, Any]:
        """A course of ``owner`` (published by default)."""
        data = await self.ok(
            "teach-internal",
            f"mutation($t: String!, $p: Int!) {{ createCourse(title: $t, priceCents: $p) {{ {COURSE_FIELDS} }} }}",
            {"t": title, "p": price},
            as_=owner,
        )
        course: dict[str, Any] = data["createCourse"]
        if published:
            await self.ok(
                "teach-internal",
                "mutation($id: ID!) { updateCourse(id: $id, published: true) { id } }",
                {"id": course["id"]},
                as_=owner,
            )
            course["published"] = True
        return course

    async def create_module(self, course_id: str, title: str = "Module", *, as_: str = "owner") -> dict[str, Any]:
        """A module appended to a course."""
        data = await self.ok(
            "teach-internal",
            "mutation($c: ID!, $t: String!) { createModule(courseId: $c, title: $t) { id courseId title position } }",
            {"c": course_id, "t": title},
            as_=as_,
        )
        module: dict[str, Any] = data["createModule"]
        return module

    async def create_lesson(
        self, module_id: str, title: str = "Lesson", content: str | None = "secret", preview: bool = False
    ) -> dict[str, Any]:
        """A lesson appended to a module (as the owner)."""
        data = await self.ok(
            "teach-internal",
            "mutation($m: ID!, $t: String!, $c: String, $p: Boolean) {"
            " createLesson(moduleId: $m, title: $t, content: $c, preview: $p) {"
            " id moduleId title preview position content } }",
            {"m": module_id, "t": title, "c": content, "p": preview},
            as_="owner",
        )
        lesson: dict[str, Any] = data["createLesson"]
        return lesson

    async def course_with_lessons(self, *, published: bool = True, price: int = 0) -> dict[str, str]:
        """A course of the owner with one module, a preview lesson and a gated lesson: their ids."""
        course = await self.create_course(published=published, price=price)
        module = await self.create_module(course["id"])
        preview = await self.create_lesson(module["id"], "Preview", "free sample", preview=True)
        gated = await self.create_lesson(module["id"], "Gated", "secret")
        return {"course": course["id"], "module": module["id"], "preview": preview["id"], "gated": gated["id"]}

    async def enroll(self, who: str, course_id: str) -> dict[str, Any]:
        """Enroll a test user in a course (free or paid) the way ecommerce does: as a service."""
        data = await self.ok(
            "students-internal",
            "mutation($u: ID!) { registerStudent(userId: $u) { id } }",
            {"u": self.user_id(who)},
            as_="service",
        )
        data = await self.ok(
            "students-internal",
            "mutation($s: ID!, $c: ID!) { enrollStudent(studentId: $s, courseId: $c) { id studentId courseId } }",
            {"s": data["registerStudent"]["id"], "c": course_id},
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
        plugins = [teach_internal, students_internal, FakeTeach(), *extra]
        async with running_app(plugins, settings or byway_settings) as app:
            yield World(app)

    return factory


@pytest.fixture
async def world(open_world: WorldFactory) -> AsyncIterator[World]:
    """A running app with teach-internal, students-internal and the fake teach."""
    async with open_world() as w:
        yield w


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """One app for a whole test module (tests must create their own data): keeps big tables fast."""
    settings = make_settings(Path(tmp_path_factory.mktemp("data")))
    async with running_app([teach_internal, students_internal, FakeTeach()], settings) as app:
        yield World(app)


@pytest.fixture
def fake_authentication() -> FakeAuthentication:
    """A fake authentication plugin (add it with ``open_world(fake_authentication)``)."""
    return FakeAuthentication()
