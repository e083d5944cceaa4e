"""The second revision re-keys existing users by NFKC + case-folding, keeping clashing accounts apart."""

from __future__ import annotations

from datetime import UTC, datetime

import byway_authentication.plugin as authentication_plugin
from sqlalchemy import text

from byway import migrate
from byway.host import Host
from byway.settings import Settings

USERS = [
    # id, email as typed, key under the first revision (NFC + lower-case)
    ("u1", "Ada@Example.org", "ada@example.org"),
    ("u2", "\uff21\uff24\uff21@example.org", "\uff41\uff44\uff41@example.org"),  # full-width twin of u1
    ("u3", "Stra\u00dfe@example.org", "stra\u00dfe@example.org"),
]


async def test_existing_emails_are_renormalised(auth_settings: Settings, database_url: str) -> None:
    host = Host(
        auth_settings.with_overrides(database_url=database_url), [authentication_plugin], load_entrypoints=False
    )
    runtime = host.plugins["authentication"]
    await host.open(migrate_now=False)
    try:
        await migrate.upgrade(runtime, "2adb4aa6cf2c")
        async with runtime.sessions() as session:
            for i, (user_id, email, key) in enumerate(USERS):
                await session.execute(
                    text(
                        "INSERT INTO users (id, email, email_normalized, password_hash, created_at) "
                        "VALUES (:id, :email, :key, 'x', :at)"
                    ),
                    {"id": user_id, "email": email, "key": key, "at": datetime(2026, 1, 1 + i, tzinfo=UTC)},
                )
            await session.commit()
        await migrate.upgrade(runtime)
        async with runtime.sessions() as session:
            rows = dict((await session.execute(text("SELECT id, email_normalized FROM users"))).all())
    finally:
        await host.close()
    # u1 takes the shared key; u2 (newer) keeps its old one, still unique; u3 is re-keyed ("ß" folds to "ss").
    assert rows == {"u1": "ada@example.org", "u2": "\uff41\uff44\uff41@example.org", "u3": "strasse@example.org"}
