"""The plugin's own tables. Only ``hello`` reads or writes them; other plugins use its API."""

from __future__ import annotations

from sqlalchemy import Column, MetaData, String, Table, func

import byway

metadata = MetaData()

greetings = Table(
    "hello_greetings",
    metadata,
    Column("id", String(32), primary_key=True),  # uuid4 hex: IDs are opaque strings
    Column("name", String(100), nullable=False),
    Column("message", String(200), nullable=False),
    Column("author_id", String(64), nullable=False, index=True),
    Column("created_at", byway.UTCDateTime(), nullable=False, server_default=func.now()),
)
