"""Resolvers of the ``teach`` API: teacher profiles, their link to users, and verification."""

from __future__ import annotations

import logging
from typing import Any

from ariadne import MutationType, QueryType
from graphql import GraphQLResolveInfo

from byway.auth import Principal, require_admin, require_service_or_admin, require_user
from byway.client import CrossPluginError
from byway.context import RequestContext
from byway.errors import (
    UNAUTHENTICATED,
    UPSTREAM_UNAVAILABLE,
    BadUserInput,
    ByWayError,
    Conflict,
    Forbidden,
    NotFound,
    Unauthenticated,
    UpstreamUnavailable,
    error_class,
)
from byway_teach import store
from byway_teach.operations import GRANT_TEACHER_ROLE, ME, UPDATE_USER_TEACHER_PROFILE
from byway_teach.store import Profile
from byway_teach.validation import clean_avatar_url, clean_bio, clean_payout_email, clean_subjects

log = logging.getLogger("byway.plugins.teach")

query = QueryType()
mutation = MutationType()

#: Most ids teacherProfilesByIds answers for in one call.
MAX_IDS = 500


def _upstream(exc: Exception, doing: str) -> ByWayError:
    """A refusal from authentication (or its absence), restated for the end user."""
    if isinstance(exc, UpstreamUnavailable) or (isinstance(exc, CrossPluginError) and exc.code == UPSTREAM_UNAVAILABLE):
        return UpstreamUnavailable(f"Could not {doing}: the authentication service is unavailable; try again later")
    if isinstance(exc, CrossPluginError):
        return error_class(exc.code)(f"Could not {doing}: {exc.message}")
    return UpstreamUnavailable(f"Could not {doing}; try again later")


async def current_user_id(ctx: RequestContext, principal: Principal) -> str:
    """The caller's user id as authentication knows it (``me``, asked as the user)."""
    try:
        data = await ctx.client.call("authentication", ME, as_=principal)
    except (CrossPluginError, UpstreamUnavailable) as exc:
        if isinstance(exc, CrossPluginError) and exc.code == UNAUTHENTICATED:
            raise Unauthenticated(exc.message) from exc
        raise _upstream(exc, "check who you are") from exc
    me = data.get("me")
    if not me:
        raise Unauthenticated("Log in to create a teacher profile")
    if me.get("id") != principal.user_id:  # authentication and the token disagree: refuse
        raise Forbidden("Your session does not match your account; log in again")
    return str(me["id"])


async def _discard(ctx: RequestContext, profile_id: str) -> None:
    """Delete a profile whose link failed, in a session of its own (the request's may be unusable)."""
    async with ctx.plugin.sessions() as session:
        await store.delete_profile(session, profile_id)
        await session.commit()


@query.field("teacherProfile")
async def resolve_teacher_profile(_: Any, info: GraphQLResolveInfo[RequestContext], id: str) -> dict[str, Any] | None:
    """A profile by id, as the caller may see it."""
    ctx: RequestContext = info.context
    async with ctx.session() as session:
        profile = await store.profile_by_id(session, id)
    return profile.view_for(ctx.principal) if profile else None


@query.field("myTeacherProfile")
async def resolve_my_teacher_profile(_: Any, info: GraphQLResolveInfo[RequestContext]) -> dict[str, Any] | None:
    """The caller's own profile, or null."""
    ctx: RequestContext = info.context
    principal = require_user(ctx.principal)
    async with ctx.session() as session:
        profile = await store.profile_of_user(session, str(principal.user_id))
    return profile.view_for(principal) if profile else None


@query.field("teacherProfilesByIds")
async def resolve_teacher_profiles_by_ids(
    _: Any, info: GraphQLResolveInfo[RequestContext], ids: list[str]
) -> list[dict[str, Any] | None]:
    """One entry per id, in order, null for unknown ids (services and admins; ``byway audit`` uses it)."""
    ctx: RequestContext = info.context
    principal = require_service_or_admin(ctx.principal)
    if len(ids) > MAX_IDS:
        raise BadUserInput(f"At most {MAX_IDS} ids at a time", field="ids")
    async with ctx.session() as session:
        found = await store.profiles_by_ids(session, ids)
    return [_view(found[i], principal) if i in found else None for i in ids]


@mutation.field("createTeacherProfile")
async def resolve_create_teacher_profile(
    _: Any,
    info: GraphQLResolveInfo[RequestContext],
    bio: str,
    subjects: list[str] | None = None,
    avatarUrl: str | None = None,
    payoutEmail: str | None = None,
) -> dict[str, Any]:
    """Create the caller's profile, then link it through authentication; undo it if the link fails."""
    ctx: RequestContext = info.context
    principal = require_user(ctx.principal)
    bio = clean_bio(bio)
    subject_list = clean_subjects(subjects)
    avatar_url = clean_avatar_url(avatarUrl)
    payout_email = clean_payout_email(payoutEmail)
    user_id = await current_user_id(ctx, principal)
    # One profile per user, decided by the unique user_id (a link authentication may still hold to
    # a profile teach no longer has is simply replaced by the new one).
    async with ctx.session() as session:
        profile = await store.insert_profile(
            session,
            user_id=user_id,
            bio=bio,
            subjects=subject_list,
            avatar_url=avatar_url,
            payout_email=payout_email,
        )
        if profile is None:
            existing = await store.profile_of_user(session, user_id)
            raise Conflict(
                "You already have a teacher profile",
                references={"teacherProfileId": existing.id if existing else None},
            )
        # Committed before linking: authentication asks teach about this profile in its own request.
        await session.commit()
    try:
        await ctx.client.call(
            "authentication", UPDATE_USER_TEACHER_PROFILE, {"teacherProfileId": profile.id}, as_=principal
        )
    except BaseException as exc:
        # No orphan: a profile that is not linked to its user is removed before the error is raised.
        try:
            await _discard(ctx, profile.id)
        except Exception:
            log.exception("could not remove unlinked teacher profile %s of user %s", profile.id, user_id)
        if isinstance(exc, (CrossPluginError, UpstreamUnavailable)):
            raise _upstream(exc, "link the teacher profile to your account") from exc
        raise
    return _view(profile, principal)


def _view(profile: Profile, principal: Principal) -> dict[str, Any]:
    view = profile.view_for(principal)
    assert view is not None  # callers pass the owner, an admin or a service
    return view


@mutation.field("verifyTeacherProfile")
async def resolve_verify_teacher_profile(_: Any, info: GraphQLResolveInfo[RequestContext], id: str) -> dict[str, Any]:
    """Mark a profile verified and grant its owner the "teacher" role (admins only; idempotent).

    The profile is verified first; if the grant then fails, the error says so and running the
    mutation again completes it (both steps are idempotent).
    """
    ctx: RequestContext = info.context
    principal = require_admin(ctx.principal)
    async with ctx.session() as session:
        profile = await store.mark_verified(session, id)
        if profile is None:
            raise NotFound(f"No teacher profile {id!r}")
        await session.commit()
    try:
        await ctx.client.call("authentication", GRANT_TEACHER_ROLE, {"userId": profile.user_id}, as_="service")
    except (CrossPluginError, UpstreamUnavailable) as exc:
        error = _upstream(exc, "grant the teacher role (the profile is verified; run verifyTeacherProfile again)")
        raise error from exc
    return _view(profile, principal)


BINDABLES = [query, mutation]
