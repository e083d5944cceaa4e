"""The tables of ``shelf``."""

from sqlalchemy import Column, MetaData, String, Table

import byway

metadata = MetaData()

items = Table(
    "shelf_items",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("note_id", String(64), nullable=True),  # notes.Note.id, checked through the client
    Column("owner_id", String(64), nullable=False),
    Column("created_at", byway.UTCDateTime(), nullable=False),
)
