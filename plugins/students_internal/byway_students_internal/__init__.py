"""``students-internal``: the Byway plugin that owns students and their course enrollments.

A ``Student`` is the learner side of an authentication user (``userId`` is unique); an
``Enrollment`` ties a student to a teach-internal course and is unique per (student, course) in
the database, so every way of enrolling is an idempotent upsert.
"""
