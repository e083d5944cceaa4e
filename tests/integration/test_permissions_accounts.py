"""Permission table of the operations issue 9 added (authentication sessions and recovery, notifications).

Each row is tried as each caller and must give exactly the expected outcome: ``ok`` (the row's
check then asserts what was returned and stored), ``true``, an error code, or an HTTP status.
Refusals are checked to have changed nothing.

Callers: ``anonymous`` (no token); ``student`` (the user the row is about: their own password,
profile, tokens); ``other_student`` (another user presenting the student's one-time or refresh
token, where the token is the credential); ``admin`` (a user whose token has the admin role);
``service`` (a service token, ``host.tokens.service_token("ecommerce")``).

Rows whose argument is a secret token (``refreshToken``, ``logout``, ``resetPassword``,
``verifyEmail``) are decided by the token alone: whoever presents a valid one gets the outcome,
so every caller column is ``ok``/``true``; the token's own refusals are tested in the plugin's tests.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from byway_authentication import plugin as authentication
from byway_authentication.models import audit_log, email_outbox, users
from byway_authentication.sessions import hash_secret, new_secret
from byway_authentication.store import sessions as session_store
from byway_notifications import plugin as notifications
from byway_notifications.models import messages
from sqlalchemy import func, select

from byway.db import utcnow
from byway.testing import TestApp, error_codes, make_settings, running_app

pytestmark = pytest.mark.asyncio(loop_scope="module")

AUTH, NOTE = "authentication", "notifications"
CALLERS = ("anonymous", "student", "other_student", "admin", "service")
OK, TRUE = "ok", "true"
UNAUTH, FORBID = "UNAUTHENTICATED", "FORBIDDEN"
H200, H400 = "200", "400"
PASSWORD = "correct horse battery"
FAST_HASHING = {"password_time_cost": 1, "password_memory_kib": 1024, "password_parallelism": 1}
REGISTER = (
    'mutation R($e: String!) { register(email: $e, password: "correct horse battery") '
    "{ token refreshToken user { id } } }"
)


@dataclass
class Person:
    user_id: str
    email: str
    token: str
    refresh: str


class Cast:
    """The running app and fresh users on demand."""

    def __init__(self, app: TestApp) -> None:
        self.app = app
        self._n = itertools.count()

    async def person(self, kind: str = "student") -> Person:
        email = f"{kind}{next(self._n)}@example.org"
        body = await self.app.gql(AUTH, REGISTER, {"e": email})
        assert "errors" not in body, body
        data = body["data"]["register"]
        return Person(data["user"]["id"], email, data["token"], data["refreshToken"])

    async def token_for(self, who: str, student: Person) -> str | None:
        """The bearer token of ``who`` when the row is about ``student``."""
        if who == "anonymous":
            return None
        if who == "service":
            return self.app.host.tokens.service_token("ecommerce")
        if who == "student":
            return student.token
        other = await self.person(who)
        roles = ("student", "admin") if who == "admin" else ("student",)
        return self.app.token(other.user_id, roles)

    async def run(self, plugin: str, query: str, variables: dict[str, Any], token: str | None) -> tuple[str, Any]:
        body = await self.app.gql(plugin, query, variables, token=token)
        codes = error_codes(body)
        if codes:
            assert len(codes) == 1 and body["data"] is None, body
            return codes[0], None
        return OK, next(iter(body["data"].values()))

    async def one_time(self, person: Person, purpose: str) -> str:
        secret = new_secret()
        async with self.app.host.plugins[AUTH].sessions() as session:
            await session_store.add_one_time_token(
                session,
                user_id=person.user_id,
                purpose=purpose,
                token_hash=hash_secret(secret),
                now=utcnow(),
                ttl=timedelta(hours=1),
            )
            await session.commit()
        return secret

    async def count(self, plugin: str, table: Any, *where: Any) -> int:
        async with self.app.host.plugins[plugin].sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(table).where(*where)) or 0)

    async def can_login(self, email: str, password: str) -> bool:
        query = "mutation L($e: String!, $p: String!) { login(email: $e, password: $p) { token } }"
        return not error_codes(await self.app.gql(AUTH, query, {"e": email, "p": password}))


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def cast(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cast]:
    settings = make_settings(Path(tmp_path_factory.mktemp("data")))
    settings = settings.with_overrides(plugins={AUTH: FAST_HASHING, NOTE: {"deliver_interval_seconds": 60}})
    async with running_app([authentication, notifications], settings) as app:
        yield Cast(app)


Row = Callable[[Cast, str], Awaitable[str]]


async def refresh_token(cast: Cast, who: str) -> str:
    student = await cast.person()
    query = "mutation F($r: String!) { refreshToken(refreshToken: $r) { token refreshToken user { id } } }"
    outcome, data = await cast.run(AUTH, query, {"r": student.refresh}, await cast.token_for(who, student))
    if outcome == OK:
        assert data["user"]["id"] == student.user_id and data["refreshToken"] != student.refresh
    return outcome


async def logout(cast: Cast, who: str) -> str:
    student = await cast.person()
    outcome, data = await cast.run(
        AUTH,
        "mutation O($r: String!) { logout(refreshToken: $r) }",
        {"r": student.refresh},
        await cast.token_for(who, student),
    )
    if outcome == OK:
        assert data is True
        again = await cast.app.gql(
            AUTH, "mutation F($r: String!) { refreshToken(refreshToken: $r) { token } }", {"r": student.refresh}
        )
        assert error_codes(again) == ["BAD_USER_INPUT"]
        return TRUE
    return outcome


async def change_password(cast: Cast, who: str) -> str:
    student = await cast.person()
    token = await cast.token_for(who, student)
    if who in ("other_student", "admin"):
        # Their own password: a fresh user of that kind changes it.
        student = await cast.person(who)
        roles = ("student", "admin") if who == "admin" else ("student",)
        token = cast.app.token(student.user_id, roles)
    query = (
        "mutation C($c: String!, $n: String!) "
        "{ changePassword(currentPassword: $c, newPassword: $n) { token user { id } } }"
    )
    outcome, data = await cast.run(AUTH, query, {"c": PASSWORD, "n": "a brand new secret"}, token)
    if outcome == OK:
        assert data["user"]["id"] == student.user_id
        assert await cast.can_login(student.email, "a brand new secret")
    else:
        assert await cast.can_login(student.email, PASSWORD)
    return outcome


async def request_password_reset(cast: Cast, who: str) -> str:
    student = await cast.person()
    before = await cast.count(AUTH, email_outbox, email_outbox.c.kind == "reset")
    outcome, data = await cast.run(
        AUTH,
        "mutation Q($e: String!) { requestPasswordReset(email: $e) }",
        {"e": student.email},
        await cast.token_for(who, student),
    )
    assert await cast.count(AUTH, email_outbox, email_outbox.c.kind == "reset") == before + (outcome == OK)
    return TRUE if outcome == OK and data is True else outcome


async def reset_password(cast: Cast, who: str) -> str:
    student = await cast.person()
    secret = await cast.one_time(student, "reset")
    query = "mutation S($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) { user { id } } }"
    outcome, data = await cast.run(
        AUTH, query, {"t": secret, "p": "reset to this one"}, await cast.token_for(who, student)
    )
    if outcome == OK:
        assert data["user"]["id"] == student.user_id and await cast.can_login(student.email, "reset to this one")
    return outcome


async def request_email_verification(cast: Cast, who: str) -> str:
    student = await cast.person()
    token = await cast.token_for(who, student)
    outcome, data = await cast.run(AUTH, "mutation { requestEmailVerification }", {}, token)
    return TRUE if outcome == OK and data is True else outcome


async def verify_email(cast: Cast, who: str) -> str:
    student = await cast.person()
    secret = await cast.one_time(student, "verify")
    query = "mutation V($t: String!) { verifyEmail(token: $t) { id emailVerified } }"
    outcome, data = await cast.run(AUTH, query, {"t": secret}, await cast.token_for(who, student))
    if outcome == OK:
        assert data == {"id": student.user_id, "emailVerified": True}
    return outcome


async def update_me(cast: Cast, who: str) -> str:
    student = await cast.person()
    token = await cast.token_for(who, student)
    query = 'mutation { updateMe(displayName: "Renamed") { id displayName } }'
    before = await cast.count(AUTH, users, users.c.display_name == "Renamed")
    outcome, data = await cast.run(AUTH, query, {}, token)
    after = await cast.count(AUTH, users, users.c.display_name == "Renamed")
    assert after == before + (outcome == OK)
    if outcome == OK:
        assert data["displayName"] == "Renamed" and (who != "student" or data["id"] == student.user_id)
    return outcome


async def audit_log_query(cast: Cast, who: str) -> str:
    student = await cast.person()
    outcome, data = await cast.run(AUTH, "{ auditLog { id action } }", {}, await cast.token_for(who, student))
    if outcome == OK:
        assert isinstance(data, list) and len(data) == await cast.count(AUTH, audit_log, audit_log.c.id.is_not(None))
    return outcome


async def send_email(cast: Cast, who: str) -> str:
    student = await cast.person()
    subject = f"Row {who}"
    query = 'mutation S($s: String!) { sendEmail(to: "x@example.org", subject: $s, text: "hi") }'
    outcome, data = await cast.run(NOTE, query, {"s": subject}, await cast.token_for(who, student))
    assert await cast.count(NOTE, messages, messages.c.subject == subject) == (1 if outcome == OK else 0)
    return TRUE if outcome == OK and data is True else outcome


async def list_messages(cast: Cast, who: str) -> str:
    student = await cast.person()
    outcome, data = await cast.run(
        NOTE, "{ messages { id to subject status } }", {}, await cast.token_for(who, student)
    )
    if outcome == OK:
        assert isinstance(data, list)
    return outcome


async def mailbox_page(cast: Cast, who: str) -> str:
    student = await cast.person()
    token = await cast.token_for(who, student)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await cast.app.client.get("/api/notifications/mailbox", headers=headers)
    return str(response.status_code)


async def verify_page_with_a_bad_token(cast: Cast, who: str) -> str:
    student = await cast.person()
    token = await cast.token_for(who, student)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await cast.app.client.post("/api/authentication/verify-email", data={"token": "nope"}, headers=headers)
    return str(response.status_code)


#: operation -> outcome per caller (anonymous, student, other_student, admin, service).
TABLE: dict[str, tuple[Row, tuple[str, str, str, str, str]]] = {
    "authentication.refreshToken": (refresh_token, (OK, OK, OK, OK, OK)),
    "authentication.logout": (logout, (TRUE, TRUE, TRUE, TRUE, TRUE)),
    "authentication.changePassword": (change_password, (UNAUTH, OK, OK, OK, FORBID)),
    "authentication.requestPasswordReset": (request_password_reset, (TRUE, TRUE, TRUE, TRUE, TRUE)),
    "authentication.resetPassword": (reset_password, (OK, OK, OK, OK, OK)),
    "authentication.requestEmailVerification": (request_email_verification, (UNAUTH, TRUE, TRUE, TRUE, FORBID)),
    "authentication.verifyEmail": (verify_email, (OK, OK, OK, OK, OK)),
    "authentication.updateMe": (update_me, (UNAUTH, OK, OK, OK, FORBID)),
    "authentication.auditLog": (audit_log_query, (UNAUTH, FORBID, FORBID, OK, FORBID)),
    "notifications.sendEmail": (send_email, (UNAUTH, FORBID, FORBID, FORBID, TRUE)),
    "notifications.messages": (list_messages, (UNAUTH, FORBID, FORBID, OK, FORBID)),
    "GET /api/notifications/mailbox (dev)": (mailbox_page, (H200, H200, H200, H200, H200)),
    "POST /api/authentication/verify-email (bad token)": (verify_page_with_a_bad_token, (H400, H400, H400, H400, H400)),
}


@pytest.mark.parametrize(
    ("operation", "who"), [(op, who) for op in TABLE for who in CALLERS], ids=lambda v: str(v).replace(" ", "_")
)
async def test_permission(cast: Cast, operation: str, who: str) -> None:
    row, expected = TABLE[operation]
    assert await row(cast, who) == expected[CALLERS.index(who)]
