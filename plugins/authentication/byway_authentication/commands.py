"""``byway users ...``: account administration from the command line (the only way to grant admin)."""

from __future__ import annotations

import getpass

import click

from byway import record_audit
from byway.auth import ROLE_STUDENT
from byway.cli import run_with_plugin
from byway.runtime import PluginRuntime
from byway_authentication import sessions, store
from byway_authentication.models import audit_log


def cli_operator() -> str:
    """Who runs the command (the operating-system user), for the audit log."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


async def set_role(plugin: PluginRuntime, email: str, role: str, *, remove: bool = False) -> store.UserRecord:
    """Grant (or, with ``remove``, revoke) ``role`` for the user with ``email``; returns the user after.

    Removing a role also revokes every refresh token of the user, so the role is gone from their
    tokens within one access-token lifetime (``BYWAY_TOKEN_TTL_SECONDS``).

    Raises:
        click.ClickException: unknown email, or an attempt to remove the implicit "student" role.
    """
    async with plugin.sessions() as session:
        user = await store.user_by_email(session, email)
        if user is None:
            raise click.ClickException(f"no user with email {email!r}")
        if role != ROLE_STUDENT:
            if remove:
                held = await store.revoke_role(session, user.id, role)
                revoked = await sessions.revoke_all(session, user.id)
                details = {"role": role, "removed": True, "held": held, "sessions_closed": revoked}
            else:
                await store.grant_role(session, user.id, role)
                details = {"role": role, "removed": False}
            await record_audit(
                session, audit_log, principal=cli_operator(), action="users.set_role", target=user.id, details=details
            )
            await session.commit()
        elif remove:
            raise click.ClickException("every user is a student: the student role cannot be removed")
        after = await store.user_by_id(session, user.id)
    assert after is not None
    return after


def register_commands(cli: click.Group) -> None:
    """Add the ``users`` group to the ``byway`` command line."""

    @cli.group("users")
    def users_group() -> None:
        """Manage user accounts."""

    @users_group.command("set-role")
    @click.argument("email")
    @click.argument("role", type=click.Choice(store.ALL_ROLES, case_sensitive=False))
    @click.option("--remove", is_flag=True, help="Revoke the role instead of granting it.")
    def set_role_cmd(email: str, role: str, remove: bool) -> None:
        """Grant ROLE (student, teacher or admin) to the user with EMAIL.

        Access tokens carry the roles of their issue: a granted role shows once the user refreshes
        or logs in again. With --remove, every session of the user is closed as well, so the role
        is gone within one access-token lifetime (15 minutes by default).
        """
        role = role.lower()

        async def run(plugin: PluginRuntime) -> store.UserRecord:
            return await set_role(plugin, email, role, remove=remove)

        user = run_with_plugin("authentication", run)
        verb = "revoked from" if remove else "granted to"
        click.echo(f"{role} {verb} {user.email} (user {user.id}); roles now: {', '.join(user.roles)}")
        if remove:
            click.echo("Every session of the user is closed: the role is gone once their access token expires.")
        else:
            click.echo("The new roles apply to tokens issued from now on: refresh or log in again to use them.")
