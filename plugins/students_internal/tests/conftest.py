"""Fixtures for students-internal's tests.

Enrollments need real courses, so the app runs students-internal with teach-internal, plus a tiny
fake ``teach`` plugin (teach-internal's ``createCourse`` asks it for the caller's verified teacher
profile) so these tests do not depend on the real one. Callers are named by role (``PEOPLE``);
``service`` is ecommerce's service token.
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
from ariadne import QueryType
from graphql import GraphQLResolveInfo

import byway
from byway.auth import require_service_or_admin
from byway.declarations import GraphQLApi, PluginInfo
from byway.settings import Settings
from byway.testing import TestApp, error_codes, make_settings, running_app

SI = "students-internal"
TI = "teach-internal"

#: Test callers: name -> (user id, roles). "anonymous" and "service" are not users.
PEOPLE: dict[str, tuple[str, tuple[str, ...]]] = {
    "student": ("u-student", ("student",)),
    "other_student": ("u-other", ("student",)),
    "unverified_teacher": ("u-unverified", ("student",)),
    "teacher": ("u-teacher", ("student", "teacher")),
    "owner": ("u-owner", ("student", "teacher")),
    "admin": ("u-admin", ("student", "admin")),
}
WHO = ["anonymous", "student", "other_student", "unverified_teacher", "teacher", "owner", "admin", "service"]


class FakeTeach:
    """A stand-in for the ``teach`` plugin: ``myTeacherProfile`` from ``profiles`` (by user id)."""

    def __init__(self) -> None:
        self.profiles: dict[str, dict[str, Any]] = {}
        for name, verified in (("unverified_teacher", False), ("teacher", True), ("owner", True)):
            user_id = PEOPLE[name][0]
            self.profiles[user_id] = {"id": f"p-{user_id}", "userId": user_id, "verified": verified}

    @byway.hookimpl
    def byway_register_plugin(self) -> PluginInfo:
        return PluginInfo(name="teach", description="test double of teach")

    @byway.hookimpl
    def byway_register_schema(self) -> GraphQLApi:
        query = QueryType()

        @query.field("myTeacherProfile")
        def resolve_my_teacher_profile(_: Any, info: GraphQLResolveInfo) -> dict[str, Any] | None:
            return self.profiles.get(info.context.principal.user_id or "")

        @query.field("teacherProfilesByIds")
        def resolve_by_ids(_: Any, info: GraphQLResolveInfo, ids: list[str]) -> list[dict[str, Any] | None]:
            require_service_or_admin(info.context.principal)
            by_id = {profile["id"]: profile for profile in self.profiles.values()}
            return [by_id.get(profile_id) for profile_id in ids]

        type_defs = """
        type TeacherProfile { id: ID! userId: ID! verified: Boolean! bio: String }
        type Query { myTeacherProfile: TeacherProfile  teacherProfilesByIds(ids: [ID!]!): [TeacherProfile]! }
        """
        return GraphQLApi(type_defs, [query])


class FakeAuthentication:
    """A stand-in for ``authentication``: ``user(id)`` and ``usersByIds`` (services and admins) from ``users``."""

    def __init__(self) -> None:
        self.users: set[str] = {user_id for user_id, _roles in PEOPLE.values()}

    @byway.hookimpl
    def byway_register_plugin(self) -> PluginInfo:
        return PluginInfo(name="authentication", description="test double of authentication")

    @byway.hookimpl
    def byway_register_schema(self) -> GraphQLApi:
        query = QueryType()

        @query.field("user")
        def resolve_user(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
            require_service_or_admin(info.context.principal)
            return {"id": id} if id in self.users else None

        @query.field("usersByIds")
        def resolve_users_by_ids(_: Any, info: GraphQLResolveInfo, ids: list[str]) -> list[dict[str, Any] | None]:
            require_service_or_admin(info.context.principal)
            return [{"id": i, "displayName": f"Fake {i}"} if i in self.users else None for i in ids]

        type_defs = """
        type User { id: ID! displayName: String! avatarUrl: String teacherProfileId: ID }
        type Query { user(id: ID!): User  usersByIds(ids: [ID!]!): [User]! }
        """
        return GraphQLApi(type_defs, [query])


class World:
    """A running app with helpers to act as the test callers."""

    def __init__(self, app: TestApp) -> None:
        self.app = app

    def token(self, who: str) -> str | None:
        """The bearer token of a test caller (None for anonymous)."""
        if who == "anonymous":
            return None
        if who == "service":
            return self.app.host.tokens.service_token("ecommerce")
        user_id, roles = PEOPLE[who]
        return self.app.token(user_id, roles)

    @staticmethod
    def user_id(who: str) -> str:
        """The user id of a test caller."""
        return PEOPLE[who][0]

    async def gql(
        self, plugin: str, query: str, variables: dict[str, Any] | None = None, *, as_: str = "anonymous"
    ) -> dict[str, Any]:
        """Run an operation as a test caller; the whole body."""
        return await self.app.gql(plugin, query, variables, token=self.token(as_))

    async def ok(
        self, plugin: str, query: str, variables: dict[str, Any] | None = None, *, as_: str = "anonymous"
    ) -> dict[str, Any]:
        """Run an operation that must succeed; its data."""
        body = await self.gql(plugin, query, variables, as_=as_)
        assert not body.get("errors"), body
        data: dict[str, Any] = body["data"]
        return data

    async def refused(
        self, plugin: str, query: str, variables: dict[str, Any] | None = None, *, as_: str = "anonymous"
    ) -> dict[str, Any]:
        """Run an operation that must fail; its first error (``code``, ``message`` and extensions)."""
        body = await self.gql(plugin, query, variables, as_=as_)
        assert body.get("errors"), body
        error: dict[str, Any] = body["errors"][0]
        return {"code": error_codes(body)[0], "message": error["message"], **error.get("extensions", {})}

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
