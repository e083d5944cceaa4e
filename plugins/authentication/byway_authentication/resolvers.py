"""Resolvers of the ``authentication`` API: accounts, login, the teacher-profile link and roles."""

from __future__ import annotations

from typing import Any

from ariadne import MutationType, QueryType
from graphql import GraphQLResolveInfo

from byway.auth import (
    ROLE_ADMIN,
    ROLE_TEACHER,
    require_authenticated,
    require_service,
    require_service_or_admin,
    require_user,
)
from byway.client import CrossPluginError
from byway.context import RequestContext
from byway.errors import (
    FORBIDDEN,
    NOT_FOUND,
    UPSTREAM_UNAVAILABLE,
    BadUserInput,
    Forbidden,
    NotFound,
    Unauthenticated,
    UpstreamUnavailable,
)
from byway.runtime import PluginRuntime
from byway_authentication import store
from byway_authentication.operations import TEACHER_PROFILE_OWNER
from byway_authentication.passwords import MAX_PASSWORD_LENGTH, HashParams, hash_password, verify_password
from byway_authentication.store import UserRecord
from byway_authentication.validation import (
    MAX_EMAIL_LENGTH,
    check_password,
    clean_email,
    clean_name,
)

query = QueryType()
mutation = MutationType()

#: One message for an unknown email and a wrong password: the response must not tell them apart.
INVALID_CREDENTIALS = "Invalid email or password"
MAX_ID_LENGTH = 64
#: Most ids usersByIds answers for in one call.
MAX_IDS = 500


def hash_params(plugin: PluginRuntime) -> HashParams:
    """The argon2 parameters configured for the plugin."""
    return HashParams.from_config(plugin.config)


def issue_token(plugin: PluginRuntime, user: UserRecord) -> str:
    """A user token carrying the user's current roles."""
    return plugin.host.tokens.issue_user_token(user.id, user.roles, email=user.email)


def _payload(plugin: PluginRuntime, user: UserRecord) -> dict[str, Any]:
    return {"token": issue_token(plugin, user), "user": user.to_graphql()}


async def _require_user_record(ctx: RequestContext, user_id: str) -> UserRecord:
    async with ctx.session() as session:
        user = await store.user_by_id(session, user_id)
    if user is None:
        # A validly signed token for an account that is gone: the caller must log in again.
        raise Unauthenticated("Your account no longer exists; log in again")
    return user


@query.field("me")
async def resolve_me(_: Any, info: GraphQLResolveInfo[RequestContext]) -> dict[str, Any] | None:
    """The caller's user (null for anonymous callers and services)."""
    ctx: RequestContext = info.context
    if not ctx.principal.is_user or ctx.principal.user_id is None:
        return None
    return (await _require_user_record(ctx, ctx.principal.user_id)).to_graphql()


@query.field("user")
async def resolve_user(_: Any, info: GraphQLResolveInfo[RequestContext], id: str) -> dict[str, Any] | None:
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
async def resolve_users_by_ids(
    _: Any, info: GraphQLResolveInfo[RequestContext], ids: list[str]
) -> list[dict[str, Any] | None]:
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
    _: Any,
    info: GraphQLResolveInfo[RequestContext],
    email: str,
    password: str,
    firstName: str | None = None,
    lastName: str | None = None,
) -> dict[str, Any]:
    """Create an account and return a token for it."""
    ctx: RequestContext = info.context
    email = clean_email(email)
    check_password(password)
    first_name = clean_name(firstName, "firstName")
    last_name = clean_name(lastName, "lastName")
    password_hash = await hash_password(hash_params(ctx.plugin), password)
    async with ctx.session() as session:
        user_id = await store.create_user(
            session, email=email, password_hash=password_hash, first_name=first_name, last_name=last_name
        )
        if user_id is None:
            raise BadUserInput("This email address is already registered", field="email")
        await session.commit()
        user = await store.user_by_id(session, user_id)
    assert user is not None
    return _payload(ctx.plugin, user)


@mutation.field("login")
async def resolve_login(_: Any, info: GraphQLResolveInfo[RequestContext], email: str, password: str) -> dict[str, Any]:
    """Check the password and return a new token with the user's current roles."""
    ctx: RequestContext = info.context
    params = hash_params(ctx.plugin)
    if len(password) > MAX_PASSWORD_LENGTH or len(email) > MAX_EMAIL_LENGTH * 2:
        # No account can have such a password: refuse without hashing megabytes.
        raise Unauthenticated(INVALID_CREDENTIALS)
    async with ctx.session() as session:
        user = await store.user_by_email(session, email)
    # An unknown email is checked against a dummy hash: both refusals take the same time.
    outcome = await verify_password(params, user.password_hash if user else None, password)
    if user is None or not outcome.ok:
        raise Unauthenticated(INVALID_CREDENTIALS)
    if outcome.needs_rehash:
        new_hash = await hash_password(params, password)
        async with ctx.session() as session:
            await store.set_password_hash(session, user.id, new_hash)
            await session.commit()
    return _payload(ctx.plugin, user)


@mutation.field("updateUserTeacherProfile")
async def resolve_update_user_teacher_profile(
    _: Any,
    info: GraphQLResolveInfo[RequestContext],
    teacherProfileId: str,
) -> dict[str, Any]:
    """Link the caller to a teacher profile once teach confirms, as the caller, that it is theirs."""
    ctx: RequestContext = info.context
    principal = require_user(ctx.principal)
    if not teacherProfileId.strip() or len(teacherProfileId) > MAX_ID_LENGTH:
        raise BadUserInput("Not a teacher profile id", field="teacherProfileId")
    await _require_user_record(ctx, str(principal.user_id))
    try:
        data = await ctx.client.call("teach", TEACHER_PROFILE_OWNER, {"id": teacherProfileId}, as_=principal)
    except CrossPluginError as exc:
        if exc.code in {NOT_FOUND, FORBIDDEN}:
            raise Forbidden("That teacher profile is not yours") from exc
        if exc.code == UPSTREAM_UNAVAILABLE:
            raise UpstreamUnavailable("The teach service is unavailable; try again later") from exc
        raise
    except UpstreamUnavailable as exc:
        raise UpstreamUnavailable("The teach service is unavailable; try again later") from exc
    profile = data.get("teacherProfile")
    if not profile or profile.get("userId") != principal.user_id:
        raise Forbidden("That teacher profile is not yours")
    async with ctx.session() as session:
        if not await store.set_teacher_profile(session, str(principal.user_id), teacherProfileId):
            raise Unauthenticated("Your account no longer exists; log in again")
        await session.commit()
        user = await store.user_by_id(session, str(principal.user_id))
    assert user is not None
    return user.to_graphql()


@mutation.field("grantRole")
async def resolve_grant_role(
    _: Any, info: GraphQLResolveInfo[RequestContext], userId: str, role: str
) -> dict[str, Any]:
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
        await session.commit()
        user = await store.user_by_id(session, user.id)
    assert user is not None
    return user.to_graphql()


BINDABLES = [query, mutation]
