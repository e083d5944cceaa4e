"""The tables of the ``authentication`` plugin (its own database; no other plugin reads them)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, MetaData, String, Table, Text

from byway.audit import audit_table
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
    # NFKC + case-folded (validation.normalize_email): the database decides uniqueness, so two
    # concurrent sign-ups cannot both win.
    Column("email_normalized", String(320), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("first_name", String(100), nullable=True),
    Column("last_name", String(100), nullable=True),
    # teach.TeacherProfile.id, written only by updateUserTeacherProfile after teach confirms it.
    Column("teacher_profile_id", String(64), nullable=True, index=True),
    Column("created_at", UTCDateTime(), nullable=False),
    # Shown instead of "firstName lastName" once set (updateMe).
    Column("display_name", String(100), nullable=True),
    Column("avatar_url", String(2048), nullable=True),
    # Set when the user follows a verification link (or a password-reset link: both prove the address).
    Column("email_verified_at", UTCDateTime(), nullable=True),
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

# Refresh tokens: opaque secrets, stored only as SHA-256 hashes. A login starts a family; every
# refresh uses one token (``used_at``) and adds the next to the family. Presenting a used token
# again revokes the whole family (whoever holds the newest one is logged out too).
refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("family_id", String(32), nullable=False, index=True),
    Column("user_id", String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("used_at", UTCDateTime(), nullable=True),
    Column("revoked_at", UTCDateTime(), nullable=True),
)

# One-time tokens of emailed links: password reset (1 hour) and email verification. Hashed, single use.
one_time_tokens = Table(
    "one_time_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_id", String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("purpose", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("used_at", UTCDateTime(), nullable=True),
)

# Rate-limit events (failed logins, reset requests, bad one-time tokens), in the database so that
# every worker and process counts the same attempts. Old rows are pruned by a job.
rate_events = Table(
    "rate_events",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("scope", String(32), nullable=False),
    Column("key", String(320), nullable=False),
    Column("at", UTCDateTime(), nullable=False, index=True),
    Index("ix_rate_events_scope_key_at", "scope", "key", "at"),
)

# Emails to send (verification, password reset), written in the transaction of the state change
# and delivered by a job through the notifications plugin, so no request waits on (or fails with)
# the mail. ``message`` holds the rendered email (it contains the link's secret) only until it is
# handed over.
email_outbox = Table(
    "email_outbox",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("user_id", String(32), nullable=True),
    Column("email_normalized", String(320), nullable=True),
    # pending -> sent | skipped (no such account, already verified) | failed
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("message", Text, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime(), nullable=True),
    Index("ix_email_outbox_status_next_attempt_at", "status", "next_attempt_at"),
)

# Who changed roles and passwords, when and from where (byway.audit; no secrets in ``details``).
audit_log = audit_table(metadata)
