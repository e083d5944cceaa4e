"""The demo: authentication's accounts, then teach's verified and linked teacher profile."""

from __future__ import annotations

from typing import TYPE_CHECKING

from byway_teach.models import teacher_profiles
from sqlalchemy import select

from byway.cli import run_demo

if TYPE_CHECKING:
    from byway.testing import TestApp

ME = "query { me { id teacherProfileId roles } }"
MY_PROFILE = "query { myTeacherProfile { id verified } }"


async def test_demo_seeds_a_verified_linked_teacher_once(app: TestApp) -> None:
    lines: list[str] = []
    first = await run_demo(app.host, lines.append)
    second = await run_demo(app.host, lines.append)
    assert first["teacher_profile_id"] == second["teacher_profile_id"]
    assert app.host.tokens.verify(second["teacher_token"]).roles == {"student", "teacher"}
    me = await app.gql("authentication", ME, token=second["teacher_token"])
    assert me["data"]["me"] == {
        "id": first["teacher_user_id"],
        "teacherProfileId": first["teacher_profile_id"],
        "roles": ["student", "teacher"],
    }
    mine = await app.gql("teach", MY_PROFILE, token=second["teacher_token"])
    assert mine["data"]["myTeacherProfile"] == {"id": first["teacher_profile_id"], "verified": True}
    async with app.host.plugins["teach"].sessions() as session:
        assert len((await session.execute(select(teacher_profiles))).all()) == 1
    assert any("verified teacher profile" in line for line in lines)
    student = await app.gql("authentication", ME, token=second["student_token"])
    assert student["data"]["me"]["teacherProfileId"] is None
