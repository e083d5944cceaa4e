"""The tables of ``students-internal``: students, enrollments, lesson progress and certificates."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, MetaData, String, Table, UniqueConstraint

import byway

metadata = MetaData()

ID_LENGTH = 32
#: Longest user id / course id we store (other plugins' ids are opaque strings).
FOREIGN_ID_LENGTH = 64
DISPLAY_NAME_MAX = 200
COURSE_TITLE_MAX = 200
CODE_LENGTH = 32

students = Table(
    "students",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    # The authentication user id (a cross-plugin reference): one student per user.
    Column("user_id", String(FOREIGN_ID_LENGTH), nullable=False),
    Column("display_name", String(DISPLAY_NAME_MAX), nullable=True),
    Column("created_at", byway.UTCDateTime(), nullable=False),
    UniqueConstraint("user_id", name="uq_students_user_id"),
)

enrollments = Table(
    "enrollments",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("student_id", String(ID_LENGTH), ForeignKey("students.id", ondelete="CASCADE"), nullable=False),
    # The teach-internal course id (a cross-plugin reference, no foreign key).
    Column("course_id", String(FOREIGN_ID_LENGTH), nullable=False, index=True),
    Column("enrolled_at", byway.UTCDateTime(), nullable=False),
    # The rule every enrollment path relies on: enrolling twice finds the first row.
    UniqueConstraint("student_id", "course_id", name="uq_enrollments_student_course"),
)

lesson_progress = Table(
    "lesson_progress",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("student_id", String(ID_LENGTH), ForeignKey("students.id", ondelete="CASCADE"), nullable=False),
    # teach-internal ids (cross-plugin references): the lesson, and its course as teach-internal said.
    Column("lesson_id", String(FOREIGN_ID_LENGTH), nullable=False, index=True),
    Column("course_id", String(FOREIGN_ID_LENGTH), nullable=False, index=True),
    Column("completed", Boolean, nullable=False),
    Column("updated_at", byway.UTCDateTime(), nullable=False),
    # One row per (student, lesson): updateProgress is an upsert on it.
    UniqueConstraint("student_id", "lesson_id", name="uq_lesson_progress_student_lesson"),
)

certificates = Table(
    "certificates",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    # The public, unguessable verification code (128 random bits, URL-safe).
    Column("code", String(CODE_LENGTH), nullable=False),
    Column("student_id", String(ID_LENGTH), ForeignKey("students.id", ondelete="CASCADE"), nullable=False),
    Column("course_id", String(FOREIGN_ID_LENGTH), nullable=False, index=True),
    # What the certificate says, as it was when issued.
    Column("student_name", String(DISPLAY_NAME_MAX), nullable=False),
    Column("course_title", String(COURSE_TITLE_MAX), nullable=False),
    # The first completion of the course (kept when lessons are added later).
    Column("issued_at", byway.UTCDateTime(), nullable=False),
    UniqueConstraint("code", name="uq_certificates_code"),
    UniqueConstraint("student_id", "course_id", name="uq_certificates_student_course"),
)
