"""The tables of ``teach-internal``: courses, their modules and their lessons.

The full-text index of the catalogue is not a table of this metadata: it lives beside ``courses``
in a form particular to each database (an FTS5 external-content table kept in step by triggers on
SQLite, a generated ``tsvector`` column with a GIN index on Postgres), created by the migration
``b7c41e2f9a10`` and excluded from autogenerate (see :data:`FULL_TEXT_OBJECTS`).
"""

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

import byway

metadata = MetaData()

ID_LENGTH = 32
#: Longest user id we store (ids of the authentication plugin are opaque strings).
USER_ID_LENGTH = 64
TITLE_MAX = 200
DESCRIPTION_MAX = 10_000
CONTENT_MAX = 100_000
CATEGORY_MAX = 60
URL_MAX = 2000
DIFFICULTIES = ("BEGINNER", "INTERMEDIATE", "ADVANCED")
LESSON_TYPES = ("TEXT", "VIDEO", "QUIZ")

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
    Column("created_at", byway.UTCDateTime(), nullable=False),
    # Catalogue facets (second round): trimmed category (filtered case-insensitively), level, cover.
    Column("category", String(CATEGORY_MAX), nullable=True),
    Column("difficulty", String(16), nullable=True),
    Column("cover_url", String(URL_MAX), nullable=True),
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
    # Dense positions 1..n per course: never two modules in one place (reorders write in two phases).
    Index("uq_modules_course_position", "course_id", "position", unique=True),
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
    Column("type", String(8), nullable=False, server_default="TEXT"),
    #: Seconds.
    Column("duration", Integer, nullable=True),
    Column("video_url", String(URL_MAX), nullable=True),
    Index("ix_lessons_module_position", "module_id", "position"),
    Index("uq_lessons_module_position", "module_id", "position", unique=True),
)


#: Database objects of the full-text index that migrations create by hand (not in this metadata).
FULL_TEXT_OBJECTS = frozenset({"courses_fts", "search_vector", "ix_courses_search_vector"})
metadata.info["unmanaged"] = FULL_TEXT_OBJECTS
