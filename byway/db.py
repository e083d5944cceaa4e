"""One SQLAlchemy async engine per plugin, opened and disposed by the host."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

log = logging.getLogger("byway.db")

#: How long a SQLite connection waits for another writer before failing (seconds).
SQLITE_BUSY_TIMEOUT = 30


def async_url(url: str | URL) -> URL:
    """The URL with an async driver: ``sqlite`` → aiosqlite, ``postgresql`` → psycopg (async)."""
    parsed = make_url(url)
    if parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def safe_url(url: str | URL) -> str:
    """The URL as text with its password hidden (for logs and ``byway plugins``)."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    # WAL lets readers run beside the single writer; busy_timeout makes writers queue instead of
    # failing with "database is locked" when many requests write at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT * 1000}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class PluginDatabase:
    """A plugin's database: its URL, engine and session factory."""

    def __init__(self, plugin: str, url: str | URL, *, echo: bool = False) -> None:
        self.plugin = plugin
        self.url = async_url(url)
        self.echo = echo
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None

    @property
    def is_sqlite(self) -> bool:
        """True for a SQLite database (batch migrations, file in the data directory)."""
        return self.url.get_backend_name() == "sqlite"

    @property
    def engine(self) -> AsyncEngine:
        """The open engine; :meth:`open` must have been awaited."""
        if self._engine is None:
            raise RuntimeError(f"database of plugin {self.plugin!r} is not open")
        return self._engine

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        """The session factory (``async with db.sessions() as session``)."""
        if self._sessions is None:
            raise RuntimeError(f"database of plugin {self.plugin!r} is not open")
        return self._sessions

    async def open(self, *, create_database: bool = False) -> None:
        """Create the engine; with ``create_database``, create a missing SQLite directory or Postgres database."""
        if self._engine is not None:
            return
        if create_database:
            try:
                await self._create_database()
            except Exception as exc:
                # An unreachable server must not stop the process: /readyz reports it (503) and
                # migrations fail with the plugin's name.
                log.warning("cannot check or create the database of plugin %s: %s", self.plugin, exc)
        kwargs: dict[str, Any] = {"echo": self.echo, "pool_pre_ping": not self.is_sqlite}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT}
        engine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def close(self) -> None:
        """Dispose the engine and its pool."""
        if self._engine is not None:
            await self._engine.dispose()
        self._engine = None
        self._sessions = None

    async def ping(self) -> None:
        """Run ``SELECT 1``; raises when the database is unreachable."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def _create_database(self) -> None:
        if self.is_sqlite:
            database = self.url.database
            if database and database != ":memory:" and not database.startswith("file:"):
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            return
        if self.url.get_backend_name() != "postgresql" or not self.url.database:
            return
        admin = create_async_engine(self.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as conn:
                exists = await conn.scalar(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": self.url.database}
                )
                if not exists:
                    quoted = self.url.database.replace('"', '""')
                    log.info("creating database %s for plugin %s", self.url.database, self.plugin)
                    try:
                        await conn.execute(text(f'CREATE DATABASE "{quoted}"'))
                    except Exception:  # another process may have created it meanwhile
                        exists = await conn.scalar(
                            text("SELECT 1 FROM pg_database WHERE datname = :name"),
                            {"name": self.url.database},
                        )
                        if not exists:
                            raise
        finally:
            await admin.dispose()
