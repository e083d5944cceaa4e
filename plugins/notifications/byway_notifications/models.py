"""The tables of the ``notifications`` plugin (its own database; no other plugin reads them)."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text, UniqueConstraint

from byway.db import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: Every message asked for, stored before anything is sent (the outbox and the dev mailbox in one).
messages = Table(
    "messages",
    metadata,
    Column("id", String(32), primary_key=True),
    # The service that asked (``svc`` of its token) and its idempotency key: one message per pair.
    Column("sender", String(64), nullable=False),
    Column("idem_key", String(200), nullable=True),
    Column("to_address", String(320), nullable=False),
    # NFKC + case-folded, for ``byway mail --to`` and the mailbox filter.
    Column("to_normalized", String(320), nullable=False, index=True),
    Column("subject", String(300), nullable=False),
    Column("text", Text, nullable=False),
    Column("html", Text, nullable=True),
    # pending -> sent | failed
    Column("status", String(16), nullable=False),
    # The transport that delivered it ("dev" keeps it here, "smtp" hands it to the server).
    Column("transport", String(16), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("permanent_failures", Integer, nullable=False, default=0),
    # When a worker may (next) try it; a claim pushes it forward (a lease), so a crashed
    # worker's message is tried again later and two workers never send it at the same time.
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False, index=True),
    Column("sent_at", UTCDateTime(), nullable=True),
    UniqueConstraint("sender", "idem_key", name="uq_messages_sender_idem_key"),
    Index("ix_messages_status_next_attempt_at", "status", "next_attempt_at"),
)
