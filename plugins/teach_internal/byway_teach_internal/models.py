"""The tables of ``teach-internal``: courses, their modules and their lessons."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from byway.db import UTCDateTime

metadata = MetaData()

ID_LENGTH = 32
#: Longest user id we store (ids of the authentication plugin are opaque strings).
USER_ID_LENGTH = 64
TITLE_MAX = 200
DESCRIPTION_MAX = 10_000
CONTENT_MAX = 100_000

courses = Table(
    "courses",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    # The owner's authentication user id (a cross-plugin reference, no foreign key).
    Column("teacher_id", String(USER_ID_LENGTH), nullable=False, index=True),
    Column("title", String(TITLE_MAX), nullable=False),
    Column("description", Text, nullable=True),
    Column("price_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("published", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime(), nullable=False),
    # The catalogue is listed by (created_at, id) over published courses (keyset pagination).
    Index("ix_courses_published_created_id", "published", "created_at", "id"),
)

modules = Table(
    "modules",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("course_id", String(ID_LENGTH), ForeignKey("courses.id", ondelete="CASCADE"), nullable=False),
    Column("title", String(TITLE_MAX), nullable=False),
    Column("position", Integer, nullable=False),
    Index("ix_modules_course_position", "course_id", "position"),
)

lessons = Table(
    "lessons",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("module_id", String(ID_LENGTH), ForeignKey("modules.id", ondelete="CASCADE"), nullable=False),
    Column("title", String(TITLE_MAX), nullable=False),
    Column("content", Text, nullable=True),
    Column("preview", Boolean, nullable=False, default=False),
    Column("position", Integer, nullable=False),
    Index("ix_lessons_module_position", "module_id", "position"),
)
