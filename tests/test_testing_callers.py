"""``byway.testing.Callers``: callers named by role, and the fake ``teach`` and ``authentication``."""

from __future__ import annotations

import pytest

from byway.settings import Settings
from byway.testing import (
    PEOPLE,
    WHO,
    Callers,
    FakeAuthentication,
    FakeTeach,
    Person,
    require_plugin,
    running_app,
)

AUDIT_LOG = "{ auditLog { id } }"  # the real authentication plugin: admins only
USERS = "query U($ids: [ID!]!) { usersByIds(ids: $ids) { id displayName avatarUrl teacherProfileId } }"
MY_PROFILE = "{ myTeacherProfile { id userId verified bio } }"
PROFILES = "query P($ids: [ID!]!) { teacherProfilesByIds(ids: $ids) { id verified } }"
CREATE_COURSE = 'mutation { createCourse(title: "Mine", priceCents: 0) { id teacherId } }'
TEACHERS = "{ teachingCourses { id } courses(first: 5) { teacherId teacher { displayName bio avatarUrl } } }"


def test_who_is_anonymous_the_people_then_a_service() -> None:
    assert WHO == (
        "anonymous",
        "student",
        "other_student",
        "unverified_teacher",
        "teacher",
        "owner",
        "admin",
        "service",
    )
    assert len({person.user_id for person in PEOPLE.values()}) == len(PEOPLE)


async def test_tokens_for_roles_are_accepted_by_the_real_authentication(byway_settings: Settings) -> None:
    authentication = require_plugin("byway_authentication.plugin")
    async with running_app([authentication], byway_settings) as app:
        callers = Callers(app)
        assert callers.token("anonymous") is None
        assert await callers.ok("authentication", AUDIT_LOG, as_="admin") == {"auditLog": []}
        for who, code in (("anonymous", "UNAUTHENTICATED"), ("student", "FORBIDDEN"), ("owner", "FORBIDDEN")):
            refusal = await callers.refused("authentication", AUDIT_LOG, as_=who)
            assert refusal["code"] == code and refusal["message"], (who, refusal)
        # the service token is ecommerce's: a service may read users (none of these is registered)
        data = await callers.ok("authentication", USERS, {"ids": [callers.user_id("student")]}, as_="service")
        assert data == {"usersByIds": [None]}
        assert (await callers.refused("authentication", USERS, {"ids": []}, as_="student"))["code"] == "FORBIDDEN"
        # the assertion helpers fail the test when the outcome is not the one asked for
        with pytest.raises(AssertionError, match="FORBIDDEN"):
            await callers.ok("authentication", AUDIT_LOG, as_="student")
        with pytest.raises(AssertionError, match="auditLog"):
            await callers.refused("authentication", AUDIT_LOG, as_="admin")
        with pytest.raises(KeyError, match="no test caller 'teacher_typo': the people are student, "):
            callers.token("teacher_typo")


async def test_a_roster_and_service_of_ones_own(byway_settings: Settings) -> None:
    authentication = require_plugin("byway_authentication.plugin")
    people = {"editor": Person("u-editor", ("student", "admin")), "reader": Person("u-reader")}
    async with running_app([authentication], byway_settings) as app:
        callers = Callers(app, people, service="notifications")
        assert await callers.ok("authentication", AUDIT_LOG, as_="editor") == {"auditLog": []}
        assert (await callers.refused("authentication", AUDIT_LOG, as_="reader"))["code"] == "FORBIDDEN"
        assert (await callers.refused("authentication", AUDIT_LOG, as_="service"))["code"] == "FORBIDDEN"
        principal = app.host.tokens.verify(callers.token("service") or "")
        assert (principal.kind, principal.service) == ("service", "notifications")
        with pytest.raises(KeyError, match="the people are editor, reader"):
            callers.user_id("student")


async def test_the_fakes_answer_from_the_people(byway_settings: Settings) -> None:
    async with running_app([FakeTeach(), FakeAuthentication()], byway_settings) as app:
        callers = Callers(app)
        owner = callers.user_id("owner")
        assert await callers.ok("teach", MY_PROFILE, as_="owner") == {
            "myTeacherProfile": {"id": f"p-{owner}", "userId": owner, "verified": True, "bio": "owner"}
        }
        unverified = await callers.ok("teach", MY_PROFILE, as_="unverified_teacher")
        assert unverified["myTeacherProfile"]["verified"] is False
        assert await callers.ok("teach", MY_PROFILE, as_="student") == {"myTeacherProfile": None}
        ids = [f"p-{owner}", "p-nobody"]
        assert (await callers.ok("teach", PROFILES, {"ids": ids}, as_="service"))["teacherProfilesByIds"] == [
            {"id": f"p-{owner}", "verified": True},
            None,
        ]
        assert (await callers.refused("teach", PROFILES, {"ids": ids}, as_="owner"))["code"] == "FORBIDDEN"
        users = await callers.ok(
            "authentication", USERS, {"ids": [owner, callers.user_id("other_student")]}, as_="admin"
        )
        assert users["usersByIds"] == [
            {
                "id": owner,
                "displayName": "Owner Tester",
                "avatarUrl": "https://img.example/owner.png",
                "teacherProfileId": f"p-{owner}",
            },
            {"id": "u-other", "displayName": "Other Student Tester", "avatarUrl": None, "teacherProfileId": None},
        ]
        assert (await callers.refused("authentication", USERS, {"ids": [owner]}, as_="anonymous"))["code"] == (
            "UNAUTHENTICATED"
        )


async def test_the_fakes_stand_in_for_teach_and_authentication(byway_settings: Settings) -> None:
    """teach-internal runs on the fakes: only a verified teacher creates courses, and they show who teaches."""
    teach_internal = require_plugin("byway_teach_internal.plugin")
    async with running_app([teach_internal, FakeTeach(), FakeAuthentication()], byway_settings) as app:
        callers = Callers(app)
        course = (await callers.ok("teach-internal", CREATE_COURSE, as_="owner"))["createCourse"]
        assert course["teacherId"] == callers.user_id("owner")
        for who in ("unverified_teacher", "student"):
            assert (await callers.refused("teach-internal", CREATE_COURSE, as_=who))["code"] == "FORBIDDEN"
        publish = "mutation($id: ID!) { updateCourse(id: $id, published: true) { id } }"
        await callers.ok("teach-internal", publish, {"id": course["id"]}, as_="owner")
        data = await callers.ok("teach-internal", TEACHERS, as_="owner")
        assert data["teachingCourses"] == [{"id": course["id"]}]
        assert data["courses"] == [
            {
                "teacherId": "u-owner",
                "teacher": {
                    "displayName": "Owner Tester",
                    "bio": "owner",
                    "avatarUrl": "https://img.example/owner.png",
                },
            }
        ]
