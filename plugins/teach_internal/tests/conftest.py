"""Fixtures for teach-internal's tests.

The app runs teach-internal and students-internal (deletes and ``isEnrolled`` need it) with a tiny
fake ``teach`` plugin, so these tests do not depend on the real one: its ``myTeacherProfile`` and
``teacherProfilesByIds`` answer from an in-memory dict keyed by the caller's user id. A fake
``authentication`` (``usersByIds``) can be added for ``Course.teacher``. Callers are
named by role (see ``PEOPLE``); ``service`` is ecommerce's service token.
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
    """A stand-in for the ``teach`` plugin: ``myTeacherProfile`` and ``teacherProfilesByIds`` from ``profiles``."""

    TYPE_DEFS = """
    type TeacherProfile { id: ID! userId: ID! bio: String subjects: [String!] verified: Boolean! }
    type Query { myTeacherProfile: TeacherProfile  teacherProfilesByIds(ids: [ID!]!): [TeacherProfile]! }
    """

    def __init__(self) -> None:
        self.profiles: dict[str, dict[str, Any]] = {}
        for name, verified in (("unverified_teacher", False), ("teacher", True), ("owner", True)):
            user_id = PEOPLE[name][0]
            self.profiles[user_id] = {"id": f"p-{user_id}", "userId": user_id, "verified": verified, "bio": name}

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

        return GraphQLApi(self.TYPE_DEFS, [query])


class FakeAuthentication:
    """A stand-in for ``authentication``: ``usersByIds`` (services and admins) from ``PEOPLE``."""

    TYPE_DEFS = """
    type User { id: ID! displayName: String! avatarUrl: String teacherProfileId: ID }
    type Query { user(id: ID!): User  usersByIds(ids: [ID!]!): [User]! }
    """

    @byway.hookimpl
    def byway_register_plugin(self) -> PluginInfo:
        return PluginInfo(name="authentication", description="test double of authentication")

    @byway.hookimpl
    def byway_register_schema(self) -> GraphQLApi:
        query = QueryType()
        users = {
            user_id: {
                "id": user_id,
                "displayName": name.replace("_", " ").title() + " Tester",
                "avatarUrl": "https://img.example/owner.png" if name == "owner" else None,
                "teacherProfileId": f"p-{user_id}" if "teacher" in name or name == "owner" else None,
            }
            for name, (user_id, _roles) in PEOPLE.items()
        }

        @query.field("user")
        def resolve_user(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
            require_service_or_admin(info.context.principal)
            return users.get(id)

        @query.field("usersByIds")
        def resolve_users(_: Any, info: GraphQLResolveInfo, ids: list[str]) -> list[dict[str, Any] | None]:
            require_service_or_admin(info.context.principal)
            return [users.get(user_id) for user_id in ids]

        return GraphQLApi(self.TYPE_DEFS, [query])


COURSE_FIELDS = "id teacherId title description priceCents currency published createdAt"


class World:
    """A running app with helpers to act as the test callers."""

    def __init__(self, app: TestApp, teach: FakeTeach) -> None:
        self.app = app
        self.teach = teach

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
        """Run an operation that must fail; its first error (with ``code`` and extensions)."""
        body = await self.gql(plugin, query, variables, as_=as_)
        assert body.get("errors"), body
        error: dict[str, Any] = body["errors"][0]
        return {"code": error_codes(body)[0], "message": error["message"], **error.get("extensions", {})}

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
        teach = FakeTeach()
        plugins = [teach_internal, students_internal, teach, *extra]
        async with running_app(plugins, settings or byway_settings) as app:
            yield World(app, teach)

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
    teach = FakeTeach()
    async with running_app([teach_internal, students_internal, teach], settings) as app:
        yield World(app, teach)


@pytest.fixture
def fake_authentication() -> FakeAuthentication:
    """A fake authentication plugin (add it with ``open_world(fake_authentication)``)."""
    return FakeAuthentication()
