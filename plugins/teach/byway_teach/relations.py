"""The cross-plugin ID fields ``teach`` holds."""

import byway
from byway_teach.models import teacher_profiles
from byway_teach.operations import USERS_EXIST

# Not optional: without authentication nobody can be identified, so no profile can be created.
RELATIONS = [
    byway.Relation(
        source="teach.TeacherProfile.userId",
        target="authentication.User",
        on_write="must exist: the caller's id as authentication.me reports it, never client input",
        on_delete="restrict (authentication never deletes users)",
        enforced_by=("teach.createTeacherProfile",),
        held_ids=byway.held_ids(teacher_profiles.c.user_id),
        exists=USERS_EXIST,
    )
]
