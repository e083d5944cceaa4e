"""The first-party world for plugin tests: :class:`World`, :func:`open_world` and ``byway_world``.

A plugin that works with users, teachers, courses or enrollments tests against the real
first-party plugins (authentication, teach, teach-internal, students-internal), seeded the way
users would seed them, through their public APIs::

    @pytest.fixture
    def byway_world_plugins() -> list[Any]:
        return [my_plugin]            # loaded beside the first-party ones

    async def test_something(byway_world: World) -> None:
        body = await byway_world.gql("reviews", ADD, {"courseId": byway_world.free_course_id},
                                     token=byway_world.student.token)

Re-exported by :mod:`byway.testing`. Needs the first-party plugins installed (the test is
skipped, saying which one is missing, when they are not).
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from byway.settings import Settings
from byway.testing import TestApp, running_app

#: The first-party plugins a world is made of, by package.
CORE_PACKAGES = ("byway_authentication", "byway_teach", "byway_teach_internal", "byway_students_internal")
#: Cheap argon2 parameters for the authentication plugin, so registering users is fast.
FAST_HASHING: dict[str, Any] = {"password_time_cost": 1, "password_memory_kib": 1024, "password_parallelism": 1}
PASSWORD = "correct horse battery"

REGISTER = """
mutation Register($email: String!, $password: String!) {
  register(email: $email, password: $password, firstName: "Test", lastName: "User") { token user { id } }
}"""
CREATE_PROFILE = 'mutation { createTeacherProfile(bio: "I teach", subjects: ["math"]) { id userId verified } }'
VERIFY_PROFILE = "mutation Verify($id: ID!) { verifyTeacherProfile(id: $id) { id verified } }"
CREATE_COURSE = """
mutation Create($title: String!, $price: Int!) {
  createCourse(title: $title, description: "d", priceCents: $price, currency: "USD") { id teacherId published }
}"""
PUBLISH = "mutation Publish($id: ID!) { updateCourse(id: $id, published: true) { id published } }"
ENROLL_ME = "mutation Enroll($courseId: ID!) { enrollMe(courseId: $courseId) { studentId courseId } }"


@dataclass
class Actor:
    """A registered user and a token for them."""

    user_id: str
    token: str
    email: str


def core_plugins() -> list[Any]:
    """The first-party plugin modules (``pytest.skip`` naming the first one not installed)."""
    modules = []
    for package in CORE_PACKAGES:
        try:
            modules.append(importlib.import_module(f"{package}.plugin"))
        except ModuleNotFoundError as exc:
            if exc.name not in (package, f"{package}.plugin"):
                raise
            pytest.skip(f"the first-party world needs {package.replace('_', '-')} installed")
    return modules


def fast_settings(settings: Settings) -> Settings:
    """``settings`` with cheap password hashing for the authentication plugin."""
    plugins = dict(settings.plugins)
    plugins["authentication"] = {**plugins.get("authentication", {}), **FAST_HASHING}
    return settings.with_overrides(plugins=plugins)


class World:
    """A running Byway with the first-party plugins, and helpers that create what tests need.

    After :meth:`seed` (``byway_world`` has run it): :attr:`verified_teacher` (with
    :attr:`teacher_profile_id`), :attr:`free_course_id` and :attr:`paid_course_id` (published,
    by the teacher; the paid one costs 4900 cents), and :attr:`student`, enrolled in the free course.
    """

    verified_teacher: Actor
    teacher_profile_id: str
    free_course_id: str
    paid_course_id: str
    student: Actor

    def __init__(self, app: TestApp) -> None:
        self.app = app
        self._n = 0

    async def gql(
        self, plugin: str, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """POST an operation to ``/api/<plugin>/graphql`` (see :func:`byway.testing.graphql`)."""
        return await self.app.gql(plugin, query, variables, token=token)

    async def _ok(self, plugin: str, query: str, variables: dict[str, Any] | None, token: str | None) -> Any:
        body = await self.gql(plugin, query, variables, token)
        if body.get("errors"):
            raise AssertionError(f"seeding the world: {plugin} refused: {body['errors']}")
        return body["data"]

    async def user(self, name: str = "user") -> Actor:
        """Register a new user (``<name><n>@example.com``)."""
        self._n += 1
        email = f"{name}{self._n}@example.com"
        data = await self._ok("authentication", REGISTER, {"email": email, "password": PASSWORD}, None)
        return Actor(data["register"]["user"]["id"], data["register"]["token"], email)

    async def admin(self) -> Actor:
        """A new user with a token carrying the admin role."""
        actor = await self.user("admin")
        return Actor(actor.user_id, self.app.token(actor.user_id, ("student", "admin")), actor.email)

    def service_token(self, plugin: str) -> str:
        """A service token of ``plugin``, as its cross-plugin calls carry."""
        return self.app.host.tokens.service_token(plugin)

    async def teacher(self, *, verified: bool = True) -> tuple[Actor, str]:
        """A new user with a teacher profile (verified by an admin unless told not): ``(actor, profile id)``."""
        actor = await self.user("teacher")
        profile_id = (await self._ok("teach", CREATE_PROFILE, None, actor.token))["createTeacherProfile"]["id"]
        if verified:
            admin = await self.admin()
            await self._ok("teach", VERIFY_PROFILE, {"id": profile_id}, admin.token)
        return actor, profile_id

    async def course(self, teacher: Actor, *, price: int = 0, published: bool = True) -> str:
        """A course by ``teacher`` (published unless told not); its id."""
        variables = {"title": f"Course {price}", "price": price}
        created = await self._ok("teach-internal", CREATE_COURSE, variables, teacher.token)
        course_id = str(created["createCourse"]["id"])
        if published:
            await self._ok("teach-internal", PUBLISH, {"id": course_id}, teacher.token)
        return course_id

    async def enroll(self, student: Actor, course_id: str) -> None:
        """Enroll ``student`` in a free, published course (students-internal ``enrollMe``)."""
        await self._ok("students-internal", ENROLL_ME, {"courseId": course_id}, student.token)

    async def seed(self) -> World:
        """Seed the standard world: verified teacher, published free and paid course, enrolled student."""
        self.verified_teacher, self.teacher_profile_id = await self.teacher()
        self.free_course_id = await self.course(self.verified_teacher, price=0)
        self.paid_course_id = await self.course(self.verified_teacher, price=4900)
        self.student = await self.user("student")
        await self.enroll(self.student, self.free_course_id)
        return self


@asynccontextmanager
async def open_world(
    settings: Settings, plugins: Sequence[Any] = (), *, seed: bool = False, transport: str | None = None
) -> AsyncIterator[World]:
    """A running app with the first-party plugins plus ``plugins`` (fast password hashing).

    With ``seed=True`` the standard world is seeded (:meth:`World.seed`). Usable from fixtures
    of any scope.
    """
    extra = [p for p in plugins if p not in core_plugins()]
    async with running_app([*core_plugins(), *extra], fast_settings(settings), transport=transport) as app:
        world = World(app)
        if seed:
            await world.seed()
        yield world


@pytest.fixture
def byway_world_plugins() -> list[Any]:
    """The plugins ``byway_world`` loads beside the first-party ones: override it in your conftest."""
    return []


@pytest.fixture
async def byway_world(byway_settings: Settings, byway_world_plugins: list[Any]) -> AsyncIterator[World]:
    """A running app with the first-party plugins and yours (``byway_world_plugins``), seeded."""
    async with open_world(byway_settings, byway_world_plugins, seed=True) as world:
        yield world
