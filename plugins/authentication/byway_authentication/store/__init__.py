"""All SQL of the ``authentication`` plugin, by concept.

* :mod:`.users`: users and their roles (re-exported here: ``store.user_by_id(...)``);
* :mod:`.sessions`: refresh tokens and one-time (reset, verification) tokens;
* :mod:`.limits`: rate-limit events;
* :mod:`.outbox`: the emails to send.
"""

from byway_authentication.store.users import (
    ALL_ROLES,
    GRANTABLE_ROLES,
    UserRecord,
    create_user,
    effective_roles,
    grant_role,
    linked_teacher_profile_ids,
    mark_email_verified,
    revoke_role,
    set_password_hash,
    set_teacher_profile,
    update_profile,
    user_by_email,
    user_by_id,
    users_by_ids,
)

__all__ = [
    "ALL_ROLES",
    "GRANTABLE_ROLES",
    "UserRecord",
    "create_user",
    "effective_roles",
    "grant_role",
    "linked_teacher_profile_ids",
    "mark_email_verified",
    "revoke_role",
    "set_password_hash",
    "set_teacher_profile",
    "update_profile",
    "user_by_email",
    "user_by_id",
    "users_by_ids",
]
