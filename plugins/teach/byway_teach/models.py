"""The tables of the ``teach`` plugin (its own database; no other plugin reads them)."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, MetaData, String, Table, Text, false

import byway

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

teacher_profiles = Table(
    "teacher_profiles",
    metadata,
    Column("id", String(32), primary_key=True),
    # authentication.User.id of the owner, learned from authentication.me. One profile per user:
    # the database decides, so of two concurrent createTeacherProfile calls exactly one wins.
    Column("user_id", String(64), nullable=False, unique=True),
    Column("bio", Text, nullable=False),
    Column("subjects", JSON, nullable=False),
    Column("avatar_url", String(2048), nullable=True),
    Column("payout_email", String(320), nullable=True),
    Column("verified", Boolean, nullable=False, server_default=false()),
    Column("verified_at", byway.UTCDateTime(), nullable=True),
    Column("created_at", byway.UTCDateTime(), nullable=False),
)
