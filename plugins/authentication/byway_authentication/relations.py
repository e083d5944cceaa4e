"""The cross-plugin ID fields ``authentication`` holds."""

from __future__ import annotations

from byway.declarations import Relation
from byway_authentication import store
from byway_authentication.operations import TEACHER_PROFILES_EXIST

# Optional: authentication is useful on its own (sign-up and login need no teach). Without teach,
# no link can be written at all: updateUserTeacherProfile fails closed (UPSTREAM_UNAVAILABLE).
RELATIONS = [
    Relation(
        source="authentication.User.teacherProfileId",
        target="teach.TeacherProfile",
        on_write="must exist and belong to the user (teach.teacherProfile, asked as the user)",
        on_delete="restrict (teach never deletes a profile once it is linked)",
        enforced_by=("authentication.updateUserTeacherProfile", "teach.createTeacherProfile"),
        optional=True,
        held_ids=store.linked_teacher_profile_ids,
        exists=TEACHER_PROFILES_EXIST,
    )
]
