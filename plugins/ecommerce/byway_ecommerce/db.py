"""Small database helpers shared by the plugin's modules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.dialects import postgresql, sqlite

if TYPE_CHECKING:
    from byway.runtime import PluginRuntime


def dialect_insert(runtime: PluginRuntime) -> Any:
    """The ``insert`` construct of the plugin database's dialect (it has ``on_conflict_do_nothing``)."""
    return sqlite.insert if runtime.db.is_sqlite else postgresql.insert


def is_postgres(runtime: PluginRuntime) -> bool:
    """True when the plugin's database is PostgreSQL."""
    return not runtime.db.is_sqlite
