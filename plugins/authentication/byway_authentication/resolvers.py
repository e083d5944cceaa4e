"""Resolvers of the ``authentication`` API: thin (arguments, permissions, calls into the modules)."""

from __future__ import annotations

from typing import Any

from ariadne import MutationType, QueryType
from graphql import GraphQLResolveInfo

from byway import audit_entries, record_audit
from byway.auth import (
    ROLE_ADMIN,
    ROLE_TEACHER,
    require_admin,
    require_authenticated,
    require_service,
    require_service_or_admin,
    require_user,
)
from byway.context import RequestContext
from byway.errors import BadUserInput, Forbidden, NotFound
from byway_authentication import accounts, profile, recovery, sessions, store
from byway_authentication.models import audit_log

query = QueryType()
mutation = MutationType()

MAX_ID_LENGTH = 64
#: Most ids usersByIds answers for in one call.
MAX_IDS = 500
MAX_AUDIT_PAGE = 200
Info = GraphQLResolveInfo[RequestContext]


@query.field("me")
async def resolve_me(_: Any, info: Info) -> dict[str, Any] | None:
    """The caller's user (null for anonymous callers and services)."""
    ctx: RequestContext = info.context
    if not ctx.principal.is_user or ctx.principal.user_id is None:
        return None
    return (await accounts.user_of(ctx.plugin, ctx.principal)).to_graphql()


@query.field("user")
async def resolve_user(_: Any, info: Info, id: str) -> dict[str, Any] | None:
    """A user by id, for services, admins and the user themself."""
    ctx: RequestContext = info.context
    principal = require_authenticated(ctx.principal)
    if principal.is_user and not principal.is_admin and principal.user_id != id:
        raise Forbidden("You may only look up your own user")
    if len(id) > MAX_ID_LENGTH:
        return None
    async with ctx.session() as session:
        user = await store.user_by_id(session, id)
    return user.to_graphql() if user else None


@query.field("usersByIds")
async def resolve_users_by_ids(_: Any, info: Info, ids: list[str]) -> list[dict[str, Any] | None]:
    """One entry per id, in order, null for unknown ids (services and admins; ``byway audit`` uses it)."""
    ctx: RequestContext = info.context
    require_service_or_admin(ctx.principal)
    if len(ids) > MAX_IDS:
        raise BadUserInput(f"At most {MAX_IDS} ids at a time", field="ids")
    async with ctx.session() as session:
        found = await store.users_by_ids(session, (i for i in ids if len(i) <= MAX_ID_LENGTH))
    return [found[i].to_graphql() if i in found else None for i in ids]


@mutation.field("register")
async def resolve_register(
    _: Any, info: Info, email: str, password: str, firstName: str | None = None, lastName: str | None = None
) -> dict[str, Any]:
    """Create an account (a verification email follows) and log in."""
    return await accounts.register(info.context.plugin, email, password, firstName, lastName)


@mutation.field("login")
async def resolve_login(_: Any, info: Info, email: str, password: str) -> dict[str, Any]:
    """Check the password (rate-limited) and return new tokens."""
    ctx: RequestContext = info.context
    return await accounts.login(ctx.plugin, email, password, ctx.client_address)


@mutation.field("refreshToken")
async def resolve_refresh_token(_: Any, info: Info, refreshToken: str) -> dict[str, Any]:
    """Spend a refresh token for new tokens (a reused one closes its whole session)."""
    return await sessions.rotate(info.context.plugin, refreshToken)


@mutation.field("logout")
async def resolve_logout(_: Any, info: Info, refreshToken: str) -> bool:
    """Close the session of a refresh token."""
    return await sessions.logout(info.context.plugin, refreshToken)


@mutation.field("changePassword")
async def resolve_change_password(_: Any, info: Info, currentPassword: str, newPassword: str) -> dict[str, Any]:
    """Change the caller's password; other sessions are closed."""
    ctx: RequestContext = info.context
    principal = require_user(ctx.principal)
    return await accounts.change_password(ctx.plugin, principal, currentPassword, newPassword, ctx.client_address)


@mutation.field("requestPasswordReset")
async def resolve_request_password_reset(_: Any, info: Info, email: str) -> bool:
    """Email a reset link when the account exists; always true."""
    ctx: RequestContext = info.context
    return await recovery.request_password_reset(ctx.plugin, email, ctx.client_address)


@mutation.field("resetPassword")
async def resolve_reset_password(_: Any, info: Info, token: str, newPassword: str) -> dict[str, Any]:
    """Set a new password with an emailed token."""
    ctx: RequestContext = info.context
    return await recovery.reset_password(ctx.plugin, token, newPassword, ctx.client_address)


@mutation.field("requestEmailVerification")
async def resolve_request_email_verification(_: Any, info: Info) -> bool:
    """Email the caller a new verification link."""
    ctx: RequestContext = info.context
    principal = require_user(ctx.principal)
    return await recovery.request_email_verification(ctx.plugin, principal, ctx.client_address)


@mutation.field("verifyEmail")
async def resolve_verify_email(_: Any, info: Info, token: str) -> dict[str, Any]:
    """Mark the email of the token's user verified."""
    ctx: RequestContext = info.context
    return await recovery.verify_email(ctx.plugin, token, ctx.client_address)


@mutation.field("updateMe")
async def resolve_update_me(_: Any, info: Info, **given: str | None) -> dict[str, Any]:
    """Change the caller's names or avatar (only the arguments given)."""
    ctx: RequestContext = info.context
    principal = require_user(ctx.principal)
    return await profile.update_me(ctx.plugin, principal, given)


@mutation.field("updateUserTeacherProfile")
async def resolve_update_user_teacher_profile(_: Any, info: Info, teacherProfileId: str) -> dict[str, Any]:
    """Link the caller to a teacher profile that teach confirms is theirs."""
    ctx: RequestContext = info.context
    principal = require_user(ctx.principal)
    return await profile.link_teacher_profile(ctx.plugin, principal, teacherProfileId)


@mutation.field("grantRole")
async def resolve_grant_role(_: Any, info: Info, userId: str, role: str) -> dict[str, Any]:
    """Grant the "teacher" role (services only; idempotent)."""
    ctx: RequestContext = info.context
    require_service(ctx.principal)
    if role == ROLE_ADMIN:
        raise Forbidden("The admin role is granted only with 'byway users set-role'")
    if role != ROLE_TEACHER:
        raise BadUserInput(f"Only the {ROLE_TEACHER!r} role can be granted this way", field="role")
    async with ctx.session() as session:
        user = await store.user_by_id(session, userId) if len(userId) <= MAX_ID_LENGTH else None
        if user is None:
            raise NotFound(f"No user {userId!r}")
        await store.grant_role(session, user.id, role)
        await record_audit(
            session,
            audit_log,
            principal=ctx.principal,
            action="users.grant_role",
            target=user.id,
            details={"role": role},
            client_address=ctx.client_address,
        )
        await session.commit()
        user = await store.user_by_id(session, user.id)
    assert user is not None
    return user.to_graphql()


@query.field("auditLog")
async def resolve_audit_log(
    _: Any, info: Info, first: int | None = 50, after: str | None = None
) -> list[dict[str, Any]]:
    """Role and password changes, newest first (admins)."""
    ctx: RequestContext = info.context
    require_admin(ctx.principal)
    first = 50 if first is None else first  # an explicit `first: null` (was INTERNAL: found by fuzzing)
    if not 1 <= first <= MAX_AUDIT_PAGE:
        raise BadUserInput(f"'first' must be between 1 and {MAX_AUDIT_PAGE}", field="first")
    async with ctx.session() as session:
        return await audit_entries(session, audit_log, first=first, after=after)


BINDABLES = [query, mutation]
