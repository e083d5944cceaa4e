"""Resolvers of the ``teach`` API: teacher profiles, their link to users, and verification."""

from __future__ import annotations

import logging
from typing import Any

from ariadne import MutationType, QueryType
from graphql import GraphQLResolveInfo

import byway
from byway_teach import store
from byway_teach.operations import GRANT_TEACHER_ROLE, ME, UPDATE_USER_TEACHER_PROFILE
from byway_teach.store import Profile
from byway_teach.validation import clean_avatar_url, clean_bio, clean_payout_email, clean_subjects

log = logging.getLogger("byway.plugins.teach")

query = QueryType()
mutation = MutationType()

#: Most ids teacherProfilesByIds answers for in one call.
MAX_IDS = 500


async def current_user_id(ctx: byway.RequestContext, principal: byway.Principal) -> str:
    """The caller's user id as authentication knows it (``me``, asked as the user)."""
    try:
        data = await ctx.client.call("authentication", ME, as_=principal)
    except byway.CrossPluginError as exc:
        raise exc.for_caller("Could not check who you are") from exc
    me = data.get("me")
    if not me:
        raise byway.Unauthenticated("Log in to create a teacher profile")
    if me.get("id") != principal.user_id:  # authentication and the token disagree: refuse
        raise byway.Forbidden("Your session does not match your account; log in again")
    return str(me["id"])


async def _discard(ctx: byway.RequestContext, profile_id: str) -> None:
    """Delete a profile whose link failed, in a session of its own (the request's may be unusable)."""
    async with ctx.plugin.sessions() as session:
        await store.delete_profile(session, profile_id)
        await session.commit()


@query.field("teacherProfile")
async def resolve_teacher_profile(
    _: Any, info: GraphQLResolveInfo[byway.RequestContext], id: str
) -> dict[str, Any] | None:
    """A profile by id, as the caller may see it."""
    ctx: byway.RequestContext = info.context
    async with ctx.session() as session:
        profile = await store.profile_by_id(session, id)
    return profile.view_for(ctx.principal) if profile else None


@query.field("myTeacherProfile")
async def resolve_my_teacher_profile(_: Any, info: GraphQLResolveInfo[byway.RequestContext]) -> dict[str, Any] | None:
    """The caller's own profile, or null."""
    ctx: byway.RequestContext = info.context
    principal = byway.require_user(ctx.principal)
    async with ctx.session() as session:
        profile = await store.profile_of_user(session, str(principal.user_id))
    return profile.view_for(principal) if profile else None


@query.field("teacherProfilesByIds")
async def resolve_teacher_profiles_by_ids(
    _: Any, info: GraphQLResolveInfo[byway.RequestContext], ids: list[str]
) -> list[dict[str, Any] | None]:
    """One entry per id, in order, null for unknown ids (services and admins; ``byway audit`` uses it)."""
    ctx: byway.RequestContext = info.context
    principal = byway.require_service_or_admin(ctx.principal)
    if len(ids) > MAX_IDS:
        raise byway.BadUserInput(f"At most {MAX_IDS} ids at a time", field="ids")
    async with ctx.session() as session:
        found = await store.profiles_by_ids(session, ids)
    return [_view(found[i], principal) if i in found else None for i in ids]


@mutation.field("createTeacherProfile")
async def resolve_create_teacher_profile(
    _: Any,
    info: GraphQLResolveInfo[byway.RequestContext],
    bio: str,
    subjects: list[str] | None = None,
    avatarUrl: str | None = None,
    payoutEmail: str | None = None,
) -> dict[str, Any]:
    """Create the caller's profile, then link it through authentication; undo it if the link fails."""
    ctx: byway.RequestContext = info.context
    principal = byway.require_user(ctx.principal)
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
            raise byway.Conflict(
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
        if isinstance(exc, byway.CrossPluginError):
            raise exc.for_caller("Could not link the teacher profile to your account") from exc
        raise
    return _view(profile, principal)


def _view(profile: Profile, principal: byway.Principal) -> dict[str, Any]:
    view = profile.view_for(principal)
    assert view is not None  # callers pass the owner, an admin or a service
    return view


@mutation.field("verifyTeacherProfile")
async def resolve_verify_teacher_profile(
    _: Any, info: GraphQLResolveInfo[byway.RequestContext], id: str
) -> dict[str, Any]:
    """Mark a profile verified and grant its owner the "teacher" role (admins only; idempotent).

    The profile is verified first; if the grant then fails, the error says so and running the
    mutation again completes it (both steps are idempotent).
    """
    ctx: byway.RequestContext = info.context
    principal = byway.require_admin(ctx.principal)
    async with ctx.session() as session:
        profile = await store.mark_verified(session, id)
        if profile is None:
            raise byway.NotFound(f"No teacher profile {id!r}")
        await session.commit()
    what = "Could not grant the teacher role (the profile is verified; run verifyTeacherProfile again)"
    try:
        await ctx.client.call("authentication", GRANT_TEACHER_ROLE, {"userId": profile.user_id}, as_="service")
    except byway.CrossPluginError as exc:
        raise exc.for_caller(what) from exc
    except byway.UpstreamUnavailable as exc:  # say what to do: the grant is the only step left
        raise byway.UpstreamUnavailable(f"{what}: {exc.message}", plugin="authentication") from exc
    return _view(profile, principal)


BINDABLES = [query, mutation]
