"""The ``teach`` part of ``byway demo``: a verified, linked profile for the demo teacher."""

from __future__ import annotations

from typing import Any

import byway
from byway_teach import store
from byway_teach.operations import GRANT_TEACHER_ROLE, UPDATE_USER_TEACHER_PROFILE

DEMO_BIO = "Tess has taught programming for ten years. Her courses start from zero and end with a real project."
DEMO_SUBJECTS = ["Python", "Web development"]


async def seed_teacher(plugin: byway.PluginRuntime, facts: dict[str, Any]) -> list[str]:
    """Give ``facts["teacher_user_id"]`` a verified profile, linked and with the teacher role (idempotent).

    Needs ``teacher_user_id`` and ``teacher_token`` from the authentication step; sets
    ``teacher_profile_id`` and replaces ``teacher_token`` with one carrying the "teacher" role.
    """
    user_id = facts.get("teacher_user_id")
    token = facts.get("teacher_token")
    if not user_id or not token:
        return ["teach: skipped (no demo teacher: the authentication plugin's demo step did not run)"]
    async with plugin.sessions() as session:
        profile = await store.insert_profile(
            session,
            user_id=user_id,
            bio=DEMO_BIO,
            subjects=DEMO_SUBJECTS,
            avatar_url=None,
            payout_email=facts.get("teacher_email"),
            verified=True,
        )
        if profile is None:
            profile = await store.profile_of_user(session, user_id)
            assert profile is not None
            if not profile.verified:
                profile = await store.mark_verified(session, profile.id)
                assert profile is not None
        await session.commit()
    teacher = plugin.tokens.verify(token)
    # The same calls a real teacher's createTeacherProfile / an admin's verifyTeacherProfile make.
    await plugin.client.call(
        "authentication", UPDATE_USER_TEACHER_PROFILE, {"teacherProfileId": profile.id}, as_=teacher
    )
    granted = await plugin.client.call("authentication", GRANT_TEACHER_ROLE, {"userId": user_id}, as_="service")
    user = granted["grantRole"]
    facts["teacher_profile_id"] = profile.id
    facts["teacher_token"] = plugin.tokens.issue_user_token(user_id, user["roles"], email=user["email"])
    who = facts.get("teacher_email", user_id)
    return [f"teach: verified teacher profile {profile.id} for {who} (roles now: {', '.join(user['roles'])})"]


DEMO_STEP = byway.DemoStep(order=20, run=seed_teacher)
