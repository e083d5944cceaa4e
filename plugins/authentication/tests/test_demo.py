"""The authentication demo step: three accounts, idempotent, with tokens for the later steps."""

from __future__ import annotations

import byway_authentication.plugin as authentication_plugin
from byway_authentication.models import user_roles, users
from sqlalchemy import func, select

from byway.cli import run_demo
from byway.settings import Settings
from byway.testing import running_app

LOGIN = 'mutation { login(email: "admin@byway.dev", password: "byway-demo") { user { id roles } } }'


async def test_demo_accounts_are_created_once(auth_settings: Settings) -> None:
    async with running_app([authentication_plugin], auth_settings) as app:
        lines: list[str] = []
        first = await run_demo(app.host, lines.append)
        second = await run_demo(app.host, lines.append)
        for key in ("teacher", "student", "admin"):
            assert first[f"{key}_user_id"] == second[f"{key}_user_id"]
            assert first[f"{key}_email"] == f"{key}@byway.dev"
            assert app.host.tokens.verify(second[f"{key}_token"]).user_id == first[f"{key}_user_id"]
        assert app.host.tokens.verify(first["admin_token"]).roles == {"admin", "student"}
        assert first["demo_password"] == "byway-demo"
        assert any("student@byway.dev / byway-demo" in line for line in lines)
        async with app.host.plugins["authentication"].sessions() as session:
            assert await session.scalar(select(func.count()).select_from(users)) == 3
            assert await session.scalar(select(func.count()).select_from(user_roles)) == 1
        login = await app.gql("authentication", LOGIN)
        assert login["data"]["login"]["user"] == {"id": first["admin_user_id"], "roles": ["admin", "student"]}
