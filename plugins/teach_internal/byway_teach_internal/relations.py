"""The ids ``teach-internal`` holds for other plugins (``byway relations``, ``byway audit``).

Relations *to* teach-internal's courses and lessons are declared by the plugins that hold them
(students-internal's enrollments, progress and certificates; ecommerce's order items); the host
applies their on-delete policies when teach-internal deletes (``byway.before_delete``).
"""

from __future__ import annotations

import byway
from byway_teach_internal.models import courses
from byway_teach_internal.operations import USERS_EXIST

#: ``Course.teacherId`` holds an authentication user id. Optional: teach-internal never calls
#: authentication to write it (the owner is the token's user, confirmed as a verified teacher by
#: ``teach``), so it can run without it.
RELATIONS = [
    byway.Relation(
        "teach-internal.Course.teacherId",
        "authentication.User",
        on_write="must exist (the caller's own user id; verified teacher profile checked with teach)",
        on_delete="restrict (users are never deleted)",
        enforced_by=("teach-internal.createCourse", "teach.myTeacherProfile"),
        optional=True,
        held_ids=byway.held_ids(courses.c.teacher_id),
        exists=USERS_EXIST,
    )
]
