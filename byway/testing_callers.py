"""Callers named by role, and test doubles, for testing a plugin on its own: :class:`Callers`.

:class:`byway.testing.World` runs the real first-party plugins and registers real users through
their APIs: use it when what you test depends on what they do. To test a plugin on its own, load
it with test doubles of the plugins it calls (:class:`FakeTeach`, :class:`FakeAuthentication`)
and call it as people named by role (:data:`PEOPLE`): their tokens are signed by the host, no
one registers, and a permission table can go through every kind of caller (:data:`WHO`)::

    from byway.testing import WHO, Callers, FakeTeach, running_app

    async def test_reviews_need_a_login(byway_settings):
        async with running_app([reviews, FakeTeach()], byway_settings) as app:
            callers = Callers(app)
            assert (await callers.refused("reviews", ADD, as_="anonymous"))["code"] == "UNAUTHENTICATED"
            data = await callers.ok("reviews", ADD, as_="student")

Subclass :class:`Callers` to add the helpers that create what your tests need (a course of the
``owner``, ...). It is a separate class rather than more of :class:`~byway.testing.World` because
the two answer different questions: a ``World`` needs the first-party plugins installed and its
people are registered users with real accounts, whereas the people here are fixed names that exist
only in tokens, so ``"student"`` means the same caller in every test and no plugin is needed for it.

Re-exported by :mod:`byway.testing`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from ariadne import QueryType
from graphql import GraphQLResolveInfo

import byway
from byway.testing import TestApp, error_codes

#: The caller with no token.
ANONYMOUS = "anonymous"
#: The caller with a service token (of the plugin :class:`Callers` is given, ecommerce by default).
SERVICE = "service"


@dataclass(frozen=True)
class Person:
    """A test caller: the user id and roles its tokens carry (it is registered nowhere).

    ``teacher_profile`` is what :class:`FakeTeach` holds for it (a ``"verified"`` or
    ``"unverified"`` profile, or none); ``avatar_url`` is what :class:`FakeAuthentication` serves.
    """

    user_id: str
    roles: tuple[str, ...] = ("student",)
    teacher_profile: Literal["verified", "unverified"] | None = None
    avatar_url: str | None = None


#: The standard test callers, by name. A teacher-to-be has the student role only until an admin
#: verifies a profile; ``teacher`` is verified but owns nothing; ``owner`` is the verified teacher
#: whose courses tests create.
PEOPLE: Mapping[str, Person] = MappingProxyType(
    {
        "student": Person("u-student"),
        "other_student": Person("u-other"),
        "unverified_teacher": Person("u-unverified", teacher_profile="unverified"),
        "teacher": Person("u-teacher", ("student", "teacher"), teacher_profile="verified"),
        "owner": Person(
            "u-owner", ("student", "teacher"), teacher_profile="verified", avatar_url="https://img.example/owner.png"
        ),
        "admin": Person("u-admin", ("student", "admin")),
    }
)

#: Every kind of caller, in a fixed order (the columns of a permission table):
#: anonymous, the people of :data:`PEOPLE` as listed, then a service.
WHO: tuple[str, ...] = (ANONYMOUS, *PEOPLE, SERVICE)


class Callers:
    """A running app (:attr:`app`, a :class:`~byway.testing.TestApp`) called as named test callers.

    ``as_`` names the caller: :data:`ANONYMOUS` (no token), :data:`SERVICE` (a service token of
    ``service``) or a person of ``people`` (a user token for their id and roles, signed by the host,
    so the real authentication plugin accepts it too).
    """

    def __init__(self, app: TestApp, people: Mapping[str, Person] = PEOPLE, *, service: str = "ecommerce") -> None:
        self.app = app
        self.people = people
        self.service = service

    def person(self, who: str) -> Person:
        """The person called ``who`` (a ``KeyError`` naming the known ones if there is none)."""
        try:
            return self.people[who]
        except KeyError:
            raise KeyError(f"no test caller {who!r}: the people are {', '.join(self.people)}") from None

    def user_id(self, who: str) -> str:
        """The user id of a person."""
        return self.person(who).user_id

    def token(self, who: str) -> str | None:
        """The bearer token of a caller (None for :data:`ANONYMOUS`)."""
        if who == ANONYMOUS:
            return None
        if who == SERVICE:
            return self.app.host.tokens.service_token(self.service)
        person = self.person(who)
        return self.app.token(person.user_id, person.roles)

    async def gql(
        self, plugin: str, query: str, variables: Mapping[str, Any] | None = None, *, as_: str = ANONYMOUS
    ) -> dict[str, Any]:
        """Run an operation on ``plugin`` as ``as_``; the whole body (``_status`` is the HTTP status)."""
        return await self.app.gql(plugin, query, variables, token=self.token(as_))

    async def ok(
        self, plugin: str, query: str, variables: Mapping[str, Any] | None = None, *, as_: str = ANONYMOUS
    ) -> dict[str, Any]:
        """Run an operation that must succeed (fails the test with the body if not); its ``data``."""
        body = await self.gql(plugin, query, variables, as_=as_)
        assert not body.get("errors") and body["_status"] == 200, body
        data: dict[str, Any] = body["data"]
        return data

    async def refused(
        self, plugin: str, query: str, variables: Mapping[str, Any] | None = None, *, as_: str = ANONYMOUS
    ) -> dict[str, Any]:
        """Run an operation that must fail (fails the test if not); its first error.

        That is ``{"code": ..., "message": ..., **extensions}``, e.g. ``{"code": "BAD_USER_INPUT",
        "message": ..., "field": "title"}``.
        """
        body = await self.gql(plugin, query, variables, as_=as_)
        assert body.get("errors"), body
        error: dict[str, Any] = body["errors"][0]
        return {"code": error_codes(body)[0], "message": error["message"], **error.get("extensions", {})}


class FakeTeach:
    """A test double of ``teach``: ``myTeacherProfile``, and ``teacherProfilesByIds`` for services and admins.

    It answers from :attr:`profiles` (by user id), made from the people's ``teacher_profile``:
    id ``p-<user id>``, ``bio`` the person's name. Change :attr:`profiles` to change the answers.
    """

    TYPE_DEFS = """
    type TeacherProfile { id: ID! userId: ID! bio: String subjects: [String!] verified: Boolean! }
    type Query { myTeacherProfile: TeacherProfile  teacherProfilesByIds(ids: [ID!]!): [TeacherProfile]! }
    """

    def __init__(self, people: Mapping[str, Person] = PEOPLE) -> None:
        self.profiles: dict[str, dict[str, Any]] = {
            person.user_id: {
                "id": f"p-{person.user_id}",
                "userId": person.user_id,
                "verified": person.teacher_profile == "verified",
                "bio": name,
                "subjects": [],
            }
            for name, person in people.items()
            if person.teacher_profile
        }

    @byway.hookimpl
    def byway_register_plugin(self) -> byway.PluginInfo:
        return byway.PluginInfo(name="teach", description="test double of teach")

    @byway.hookimpl
    def byway_register_schema(self) -> byway.GraphQLApi:
        query = QueryType()

        @query.field("myTeacherProfile")
        def resolve_my_teacher_profile(_: Any, info: GraphQLResolveInfo[byway.RequestContext]) -> dict[str, Any] | None:
            return self.profiles.get(info.context.principal.user_id or "")

        @query.field("teacherProfilesByIds")
        def resolve_by_ids(
            _: Any, info: GraphQLResolveInfo[byway.RequestContext], ids: list[str]
        ) -> list[dict[str, Any] | None]:
            byway.require_service_or_admin(info.context.principal)
            by_id = {profile["id"]: profile for profile in self.profiles.values()}
            return [by_id.get(profile_id) for profile_id in ids]

        return byway.GraphQLApi(self.TYPE_DEFS, [query])


class FakeAuthentication:
    """A test double of ``authentication``: ``user(id)`` and ``usersByIds``, for services and admins.

    It answers from :attr:`users` (by user id), one per person: ``displayName`` from the name
    (``other_student`` is "Other Student Tester"), the person's ``avatar_url``, and
    ``teacherProfileId`` the :class:`FakeTeach` profile's id when there is one. Change
    :attr:`users` to change the answers.
    """

    TYPE_DEFS = """
    type User { id: ID! displayName: String! avatarUrl: String teacherProfileId: ID }
    type Query { user(id: ID!): User  usersByIds(ids: [ID!]!): [User]! }
    """

    def __init__(self, people: Mapping[str, Person] = PEOPLE) -> None:
        self.users: dict[str, dict[str, Any]] = {
            person.user_id: {
                "id": person.user_id,
                "displayName": name.replace("_", " ").title() + " Tester",
                "avatarUrl": person.avatar_url,
                "teacherProfileId": f"p-{person.user_id}" if person.teacher_profile else None,
            }
            for name, person in people.items()
        }

    @byway.hookimpl
    def byway_register_plugin(self) -> byway.PluginInfo:
        return byway.PluginInfo(name="authentication", description="test double of authentication")

    @byway.hookimpl
    def byway_register_schema(self) -> byway.GraphQLApi:
        query = QueryType()

        @query.field("user")
        def resolve_user(_: Any, info: GraphQLResolveInfo[byway.RequestContext], id: str) -> dict[str, Any] | None:
            byway.require_service_or_admin(info.context.principal)
            return self.users.get(id)

        @query.field("usersByIds")
        def resolve_users_by_ids(
            _: Any, info: GraphQLResolveInfo[byway.RequestContext], ids: list[str]
        ) -> list[dict[str, Any] | None]:
            byway.require_service_or_admin(info.context.principal)
            return [self.users.get(user_id) for user_id in ids]

        return byway.GraphQLApi(self.TYPE_DEFS, [query])
