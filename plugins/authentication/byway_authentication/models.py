"""The tables of the ``authentication`` plugin (its own database; no other plugin reads them)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, MetaData, String, Table

from byway.db import UTCDateTime

# Named constraints keep SQLite batch migrations and Postgres in step.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

users = Table(
    "users",
    metadata,
    Column("id", String(32), primary_key=True),
    # As the user typed it (trimmed), for display.
    Column("email", String(320), nullable=False),
    # Lower-cased: the database decides uniqueness, so two concurrent sign-ups cannot both win.
    Column("email_normalized", String(320), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("first_name", String(100), nullable=True),
    Column("last_name", String(100), nullable=True),
    # teach.TeacherProfile.id, written only by updateUserTeacherProfile after teach confirms it.
    Column("teacher_profile_id", String(64), nullable=True, index=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

# Granted roles ("teacher", "admin"); "student" is implicit for every user. One row per grant, so
# granting is an idempotent insert and concurrent grants cannot overwrite each other.
user_roles = Table(
    "user_roles",
    metadata,
    Column("user_id", String(32), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(32), primary_key=True),
    Column("granted_at", UTCDateTime(), nullable=False),
)
