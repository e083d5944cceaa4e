"""The tables of ``students-internal``: students and enrollments."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, MetaData, String, Table, UniqueConstraint

from byway.db import UTCDateTime

metadata = MetaData()

ID_LENGTH = 32
#: Longest user id / course id we store (other plugins' ids are opaque strings).
FOREIGN_ID_LENGTH = 64
DISPLAY_NAME_MAX = 200

students = Table(
    "students",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    # The authentication user id (a cross-plugin reference): one student per user.
    Column("user_id", String(FOREIGN_ID_LENGTH), nullable=False),
    Column("display_name", String(DISPLAY_NAME_MAX), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("user_id", name="uq_students_user_id"),
)

enrollments = Table(
    "enrollments",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("student_id", String(ID_LENGTH), ForeignKey("students.id", ondelete="CASCADE"), nullable=False),
    # The teach-internal course id (a cross-plugin reference, no foreign key).
    Column("course_id", String(FOREIGN_ID_LENGTH), nullable=False, index=True),
    Column("enrolled_at", UTCDateTime(), nullable=False),
    # The rule every enrollment path relies on: enrolling twice finds the first row.
    UniqueConstraint("student_id", "course_id", name="uq_enrollments_student_course"),
)
