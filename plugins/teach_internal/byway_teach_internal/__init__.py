"""``teach-internal``: the Byway plugin that owns courses, their modules and lessons.

Courses belong to a teacher (``teacherId`` is the owner's user id, taken from the token); creating
one requires a verified teacher profile, checked with the ``teach`` plugin. Whether the caller is
enrolled comes from ``students-internal`` (one batched call per request), and lesson content is
gated on the server.
"""
