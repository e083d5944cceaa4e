"""The ``authentication`` part of ``byway demo``: a teacher, a student and an admin account."""

from __future__ import annotations

from typing import Any

import click

from byway.auth import ROLE_ADMIN
from byway.declarations import DemoStep
from byway.runtime import PluginRuntime
from byway_authentication import store
from byway_authentication.config import config_of
from byway_authentication.passwords import HashParams, hash_password

DEMO_PASSWORD = "byway-demo"
#: (facts key, email, first name, last name, stored roles)
DEMO_USERS: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("teacher", "teacher@byway.dev", "Tess", "Teacher", ()),
    ("student", "student@byway.dev", "Sam", "Student", ()),
    ("admin", "admin@byway.dev", "Ada", "Admin", (ROLE_ADMIN,)),
)


async def seed_users(plugin: PluginRuntime, facts: dict[str, Any]) -> list[str]:
    """Create the demo accounts when missing (idempotent) and put ids, emails and tokens in ``facts``.

    Facts set: ``<who>_user_id``, ``<who>_email``, ``<who>_token`` for teacher, student and admin,
    and ``demo_password``.
    """
    if plugin.settings.is_production:
        raise click.ClickException("refusing to create demo accounts with a published password in production")
    params = HashParams.from_config(config_of(plugin))
    lines = ["authentication: demo accounts (password for all: byway-demo)"]
    async with plugin.sessions() as session:
        for key, email, first, last, roles in DEMO_USERS:
            user = await store.user_by_email(session, email)
            if user is None:
                password_hash = await hash_password(params, DEMO_PASSWORD)
                await store.create_user(
                    session, email=email, password_hash=password_hash, first_name=first, last_name=last
                )
            user = await store.user_by_email(session, email)
            assert user is not None
            await store.mark_email_verified(session, user.id)
            for role in roles:
                await store.grant_role(session, user.id, role)
            await session.commit()
            user = await store.user_by_id(session, user.id)
            assert user is not None
            facts[f"{key}_user_id"] = user.id
            facts[f"{key}_email"] = user.email
            facts[f"{key}_token"] = plugin.tokens.issue_user_token(user.id, user.roles, email=user.email)
            lines.append(f"  {key:8} {email} / {DEMO_PASSWORD}  roles: {', '.join(user.roles)}")
    facts["demo_password"] = DEMO_PASSWORD
    lines.append(
        '  log in: POST /api/authentication/graphql  mutation { login(email: "student@byway.dev", '
        'password: "byway-demo") { token } }, then send "Authorization: Bearer <token>"'
    )
    return lines


DEMO_STEP = DemoStep(order=10, run=seed_users)
