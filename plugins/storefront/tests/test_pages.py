"""The storefront's pages over HTTP, as a person without JavaScript uses them.

Every test runs the whole school (all first-party plugins, the demo data) with the storefront at
``/``; the storefront reaches the other plugins only through their public operations.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid

import pytest
from byway_storefront.config import StorefrontConfig
from jose import jwt
from storefront_site import CSRF as CSRF_FIELD
from storefront_site import School, Visitor, open_school, session_id_of, text_of

from byway.plugin_config import config_from_mapping
from byway.settings import ConfigurationError, Settings
from byway.testing import TEST_JWT_SECRET, FailingTransport

LESSONS_OF = """
query($id: ID!) {
  course(id: $id) {
    id title modules { id title position lessons { id title preview position type duration videoUrl } }
  }
}
"""
CREATE_COURSE = """
mutation($title: String!, $description: String, $priceCents: Int!, $category: String, $difficulty: Difficulty) {
  createCourse(title: $title, description: $description, priceCents: $priceCents, category: $category,
               difficulty: $difficulty) { id }
}
"""
PUBLISH = "mutation($id: ID!) { updateCourse(id: $id, published: true) { id } }"
ENROLLED = "query($c: ID!) { isEnrolledMe(courseId: $c) }"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def add_course(
    school: School,
    title: str,
    *,
    price: int = 0,
    category: str | None = None,
    difficulty: str | None = None,
    description: str | None = None,
) -> str:
    """A published course of the demo teacher, made through teach-internal's API."""
    token = school.facts["teacher_token"]
    variables = {
        "title": title,
        "priceCents": price,
        "category": category,
        "difficulty": difficulty,
        "description": description,
    }
    body = await school.gql("teach-internal", CREATE_COURSE, variables, token=token)
    course_id = body["data"]["createCourse"]["id"]
    published = await school.gql("teach-internal", PUBLISH, {"id": course_id}, token=token)
    assert published["data"], published
    return str(course_id)


async def lessons_of(school: School, course_id: str, token: str) -> list[dict]:
    body = await school.gql("teach-internal", LESSONS_OF, {"id": course_id}, token=token)
    modules = sorted(body["data"]["course"]["modules"], key=lambda m: m["position"])
    return [lesson for m in modules for lesson in sorted(m["lessons"], key=lambda item: item["position"])]


async def student(school: School) -> Visitor:
    """A new learner, registered and signed in through the pages."""
    visitor = school.visitor()
    response = await visitor.register(f"{unique('learner')}@example.org")
    assert response.status_code == 200, response.text
    return visitor


# --- the catalog ----------------------------------------------------------------------------------


async def test_the_storefront_serves_the_catalog_at_the_root_with_security_headers(school: School) -> None:
    visitor = school.visitor()
    response = await visitor.get("/")
    assert response.status_code == 200
    text = text_of(response.text)
    assert "Python from Zero" in text and "Async Python in Production" in text
    assert "49.00 USD" in text and "Free" in text
    assert "Enrolled" not in text  # anonymous
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    css = await visitor.client.get(re.search(r'href="(/assets/storefront\.css\?v=\w+)"', response.text).group(1))
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


async def test_a_signed_in_learner_sees_enrolled_on_their_courses(school: School) -> None:
    visitor = school.visitor()
    await visitor.login(school.facts["student_email"], school.facts["demo_password"])
    page = (await visitor.get("/")).text
    card = page[page.index("Python from Zero") :]
    card = card[: card.index("</li>")]
    assert "Enrolled" in card


async def test_search_filters_and_pages(school: School) -> None:
    word = unique("zebrafish")
    first = await add_course(
        school, f"Painting {word}", category="Art", difficulty="ADVANCED", description="Brushes and colour"
    )
    second = await add_course(
        school, "Sculpture basics", price=1500, category="Art", difficulty="BEGINNER", description=f"Clay and {word}"
    )
    visitor = school.visitor()
    found = text_of((await visitor.get("/", params={"q": word})).text)
    assert "Painting" in found and "Sculpture basics" in found and "Python from Zero" not in found
    assert "2 courses" in found
    art_free = text_of((await visitor.get("/", params={"category": "art", "price": "free"})).text)
    assert "Painting" in art_free and "Sculpture basics" not in art_free
    advanced = text_of((await visitor.get("/", params={"difficulty": "advanced", "q": word})).text)
    assert "Painting" in advanced and "Sculpture basics" not in advanced
    # Search is text, never syntax: nothing a visitor types gives an error page.
    for hostile in ['"unbalanced', "a* OR (", "NEAR(x y)", "-", "'; DROP TABLE courses; --", "x" * 5000]:
        assert (await visitor.get("/", params={"q": hostile})).status_code == 200
    assert (await visitor.get("/", params={"difficulty": "EXPERT", "price": "cheap"})).status_code == 200
    # Pages: one course per page here, "Next page" walks through every match.
    del first, second
    seen: list[str] = []
    page = (await visitor.get("/", params={"q": word})).text
    while True:
        seen += re.findall(r'<h2><a href="/courses/(\w+)">', page)
        following = re.search(r'<a href="([^"]+)" rel="next">', page)
        if not following:
            break
        page = (await visitor.get(following.group(1).replace("&amp;", "&"))).text
    assert len(seen) == len(set(seen)) == 2


async def test_the_catalog_makes_the_same_calls_whatever_the_number_of_courses(school: School) -> None:
    visitor = school.visitor()
    await visitor.login(school.facts["student_email"], school.facts["demo_password"])
    with school.host.observe_calls() as few:
        assert (await visitor.get("/")).status_code == 200
    for n in range(6):
        await add_course(school, f"Extra course {n}", price=100 * n)
    with school.host.observe_calls() as many:
        page = (await visitor.get("/")).text
    assert page.count('class="card"') >= 8
    assert len(many) == len(few) <= 4, [(c.target, c.operation) for c in many]
    assert [c.operation for c in many if c.caller == "storefront"] == ["Catalog"]


# --- course and lesson pages ------------------------------------------------------------------------


async def test_course_page_offers_the_one_right_action(school: School) -> None:
    free, paid = school.facts["free_course_id"], school.facts["paid_course_id"]
    anonymous = school.visitor()
    page = (await anonymous.get(f"/courses/{free}")).text
    assert "Enroll for free" in page and "Buy for" not in page
    page = (await anonymous.get(f"/courses/{paid}")).text
    assert "Buy for 49.00 USD" in page and "Enroll for free" not in page
    assert "Locked" in page and "Free preview" in page
    enrolled = school.visitor()
    await enrolled.login(school.facts["student_email"], school.facts["demo_password"])
    page = text_of((await enrolled.get(f"/courses/{free}")).text)
    assert "Continue:" in page and "% complete" in page and "Enroll for free" not in page
    teacher = school.visitor()
    await teacher.login(school.facts["teacher_email"], school.facts["demo_password"])
    assert "Edit this course" in (await teacher.get(f"/courses/{paid}")).text
    assert (await anonymous.get("/courses/no-such-course")).status_code == 404


async def test_a_locked_lesson_shows_no_content_and_a_preview_is_open(school: School) -> None:
    paid = school.facts["paid_course_id"]
    lessons = await lessons_of(school, paid, school.facts["teacher_token"])
    preview = next(lesson for lesson in lessons if lesson["preview"])
    locked = next(lesson for lesson in lessons if not lesson["preview"])
    visitor = school.visitor()
    page = (await visitor.get(f"/lessons/{locked['id']}", params={"course": paid})).text
    assert "This lesson is locked" in page and "Mark complete" not in page
    page = (await visitor.get(f"/lessons/{preview['id']}", params={"course": paid})).text
    assert "This lesson is locked" not in page
    # A link without ?course= works too (one more call, to learn the lesson's course).
    assert "This lesson is locked" in (await visitor.get(f"/lessons/{locked['id']}")).text
    assert (await visitor.get("/lessons/no-such-lesson")).status_code == 404
    assert (
        await visitor.get(f"/lessons/{locked['id']}", params={"course": school.facts["free_course_id"]})
    ).status_code == 404


async def test_enroll_complete_every_lesson_and_get_the_certificate(school: School) -> None:
    course_id = await add_course(school, unique("Tiny course"))
    token = school.facts["teacher_token"]
    module = await school.gql(
        "teach-internal",
        'mutation($c: ID!) { createModule(courseId: $c, title: "Only") { id } }',
        {"c": course_id},
        token=token,
    )
    for title in ("One", "Two"):
        await school.gql(
            "teach-internal",
            "mutation($m: ID!, $t: String!, $c: String) { createLesson(moduleId: $m, title: $t, content: $c) { id } }",
            {"m": module["data"]["createModule"]["id"], "t": title, "c": "Read me <script>x</script> `code`"},
            token=token,
        )
    lessons = await lessons_of(school, course_id, token)
    visitor = await student(school)
    await visitor.get(f"/courses/{course_id}")
    response = await visitor.post(f"/courses/{course_id}/enroll")
    assert str(response.url).endswith(f"/courses/{course_id}?notice=enrolled")
    assert "0% complete" in text_of(response.text)
    with school.host.observe_calls() as calls:
        page = await visitor.get(f"/lessons/{lessons[0]['id']}", params={"course": course_id})
    assert "Read me &lt;script&gt;x&lt;/script&gt; <code>code</code>" in page.text and "<script>x" not in page.text
    assert "Mark complete and continue" in page.text
    assert sorted(c.operation for c in calls if c.caller == "storefront") == ["LessonCourse", "MyProgress"]
    response = await visitor.post(
        f"/lessons/{lessons[0]['id']}/progress", {"course": course_id, "completed": "true", "next": lessons[1]["id"]}
    )
    assert f"/lessons/{lessons[1]['id']}" in str(response.url)
    response = await visitor.post(f"/lessons/{lessons[1]['id']}/progress", {"course": course_id, "completed": "true"})
    assert "100% complete" in text_of(response.text) and "See your certificate" in response.text
    mine = text_of((await visitor.get("/my/courses")).text)
    assert "100% complete" in mine and "Certificate for" in mine
    certificate = await visitor.get(f"/courses/{course_id}/certificate")
    assert "/certificates/" in str(certificate.url)
    text = text_of(certificate.text)
    assert "Ada Learner" in text and "Tiny course" in text
    verify = re.search(r'id="verify-link" href="([^"]+)"', certificate.text).group(1)
    public = await school.visitor().client.get(verify, headers={"accept": "application/json"})
    assert public.status_code == 200 and public.json()["courseTitle"].startswith("Tiny course")


async def test_no_certificate_before_completion(school: School) -> None:
    visitor = await student(school)
    free = school.facts["free_course_id"]
    await visitor.get(f"/courses/{free}")
    await visitor.post(f"/courses/{free}/enroll")
    response = await visitor.get(f"/courses/{free}/certificate")
    assert response.status_code == 404 and "No certificate yet" in response.text


# --- buying -------------------------------------------------------------------------------------------


async def pay(visitor: Visitor, course_id: str) -> str:
    """Buy a course on the dev provider's page; returns the success page URL it lands on."""
    await visitor.get(f"/courses/{course_id}")
    to_provider = await visitor.post(f"/courses/{course_id}/buy", follow=False)
    assert to_provider.status_code == 303
    checkout_url = to_provider.headers["location"]
    paid = await visitor.pay(checkout_url)
    assert paid.status_code == 303
    return paid.headers["location"]


async def test_buy_on_the_dev_provider_land_enrolled_then_buying_again_is_friendly(school: School) -> None:
    paid = school.facts["paid_course_id"]
    visitor = await student(school)
    lessons = await lessons_of(school, paid, school.facts["teacher_token"])
    locked = next(lesson for lesson in lessons if not lesson["preview"])
    assert "This lesson is locked" in (await visitor.get(f"/lessons/{locked['id']}", params={"course": paid})).text
    success = await pay(visitor, paid)
    assert success.startswith(f"{school.base_url}/checkout/success?session_id=")
    page = await visitor.get(success)
    assert "You are enrolled" in page.text and f'href="/courses/{paid}"' in page.text
    status = await visitor.client.get("/checkout/status", params={"session_id": session_id_of(success)})
    assert status.json()["ok"] is True and status.json()["status"] == "PAID"
    assert "This lesson is locked" not in (await visitor.get(f"/lessons/{locked['id']}", params={"course": paid})).text
    orders = text_of((await visitor.get("/my/orders")).text)
    assert "Async Python in Production" in orders and "Paid" in orders
    # A second purchase attempt: a friendly page linking to the course, and no new order.
    await visitor.get(f"/courses/{paid}")
    again = await visitor.post(f"/courses/{paid}/buy")
    assert again.status_code == 409
    assert "already enrolled" in text_of(again.text) and f'href="/courses/{paid}"' in again.text


async def test_the_success_page_waits_for_an_unpaid_checkout_and_works_without_javascript(school: School) -> None:
    paid = school.facts["paid_course_id"]
    visitor = await student(school)
    await visitor.get(f"/courses/{paid}")
    checkout_url = (await visitor.post(f"/courses/{paid}/buy", follow=False)).headers["location"]
    session_id = checkout_url.rstrip("/").rsplit("/", 1)[-1]
    status = await visitor.client.get("/checkout/status", params={"session_id": session_id})
    assert status.status_code == 200 and status.json() == {
        "ok": False,
        "status": "PENDING",
        "orderId": status.json()["orderId"],
        "courses": [],
    }
    page = await visitor.get("/checkout/success", params={"session_id": session_id})
    assert page.status_code == 200
    assert "Confirming your payment" in page.text and 'aria-live="polite"' in page.text
    assert f'href="/checkout/success?session_id={session_id}">Check again</a>' in page.text
    assert (
        'data-poll-seconds="60"' in page.text
        and 'id="checkout-late" hidden' in page.text
        and 'data-final="false"' in page.text
    )
    assert (await visitor.pay(checkout_url)).status_code == 303
    status = await visitor.client.get("/checkout/status", params={"session_id": session_id})
    assert status.json()["ok"] is True and status.json()["courses"][0]["url"] == f"/courses/{paid}"
    assert "You are enrolled" in (await visitor.get("/checkout/success", params={"session_id": session_id})).text
    stranger = await student(school)
    assert (await stranger.client.get("/checkout/status", params={"session_id": session_id})).status_code in (403, 404)
    cancel = await visitor.get("/checkout/cancel", params={"course": paid})
    assert "nothing was charged" in text_of(cancel.text) and f'href="/courses/{paid}"' in cancel.text


def visitor_token(visitor: Visitor, school: School) -> str:
    """The access token inside a visitor's session cookie (tests only: scripts in pages cannot read it)."""
    import base64
    import json

    raw = visitor.cookie("byway_session")
    assert raw
    return str(json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))["a"])


def visitor_refresh(visitor: Visitor) -> str:
    import base64
    import json

    raw = visitor.cookie("byway_session")
    assert raw
    return str(json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))["r"])


# --- the session, CSRF and refusals --------------------------------------------------------------------


async def test_the_session_cookie_is_httponly_and_samesite_lax(school: School) -> None:
    visitor = school.visitor()
    await visitor.get("/login")
    response = await visitor.client.post(
        "/login",
        data={"csrf": visitor.csrf, "email": school.facts["student_email"], "password": school.facts["demo_password"]},
    )
    assert response.status_code == 303
    cookies = response.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("byway_session="))
    assert "HttpOnly" in session and "SameSite=lax" in session and "Path=/" in session and "Secure" not in session


async def test_forms_without_the_right_csrf_token_change_nothing(school: School) -> None:
    free = school.facts["free_course_id"]
    victim = await student(school)
    attacker = await student(school)
    await attacker.get(f"/courses/{free}")
    for token in ("", "forged", attacker.csrf):
        response = await victim.client.post(f"/courses/{free}/enroll", data={"csrf": token})
        assert response.status_code == 403 and "This form expired" in response.text
    body = await school.gql("students-internal", ENROLLED, {"c": free}, token=visitor_token(victim, school))
    assert body["data"]["isEnrolledMe"] is False


async def test_an_expired_access_token_is_renewed_once_for_concurrent_requests(school: School) -> None:
    import base64
    import json

    visitor = await student(school)
    refresh = visitor_refresh(visitor)
    claims = jwt.get_unverified_claims(visitor_token(visitor, school))
    claims.update(iat=int(time.time()) - 3600, exp=int(time.time()) - 60)
    expired = jwt.encode(claims, TEST_JWT_SECRET, algorithm="HS256")
    cookie = base64.urlsafe_b64encode(json.dumps({"a": expired, "r": refresh}).encode()).decode().rstrip("=")
    browser = school.visitor().client  # a jar of its own: the cookie goes in the header
    headers = {"cookie": f"byway_session={cookie}"}
    with school.host.observe_calls() as calls:
        first, second = await asyncio.gather(
            browser.get("/my/courses", headers=headers), browser.get("/my/orders", headers=headers)
        )
    assert first.status_code == second.status_code == 200
    assert [c.operation for c in calls].count("Refresh") == 1
    assert any(c.startswith("byway_session=") for c in first.headers.get_list("set-cookie"))
    # The old refresh token is spent: authentication refuses it now.
    reused = await school.gql(
        "authentication", "mutation($r: String!) { refreshToken(refreshToken: $r) { token } }", {"r": refresh}
    )
    assert reused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_logout_revokes_the_refresh_token_and_forgets_the_session(school: School) -> None:
    visitor = await student(school)
    refresh = visitor_refresh(visitor)
    await visitor.get("/logout")
    response = await visitor.post("/logout")
    assert "You are signed out" in response.text
    assert visitor.cookie("byway_session") is None
    revoked = await school.gql(
        "authentication", "mutation($r: String!) { refreshToken(refreshToken: $r) { token } }", {"r": refresh}
    )
    assert revoked["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    response = await visitor.client.get("/my/courses")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=%2Fmy%2Fcourses"


async def test_pages_for_members_send_visitors_to_sign_in_and_back(school: School) -> None:
    visitor = school.visitor()
    for path in ("/my/courses", "/my/orders", "/teach", "/teach/courses/new"):
        response = await visitor.client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    await visitor.get("/login", params={"next": "/my/orders"})
    response = await visitor.post(
        "/login",
        {"email": school.facts["student_email"], "password": school.facts["demo_password"], "next": "/my/orders"},
    )
    assert str(response.url).startswith(f"{school.base_url}/my/orders")


async def test_login_errors_are_announced_and_next_never_leaves_the_site(school: School) -> None:
    visitor = school.visitor()
    await visitor.get("/login")
    response = await visitor.post("/login", {"email": school.facts["student_email"], "password": "wrong password!"})
    assert response.status_code == 400
    assert 'role="alert"' in response.text and "Wrong email or password" in response.text
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        await visitor.get("/login")
        response = await visitor.post(
            "/login",
            {"email": school.facts["student_email"], "password": school.facts["demo_password"], "next": evil},
            follow=False,
        )
        assert response.headers["location"].startswith("/?") or response.headers["location"] == "/"


async def test_registration_errors_sit_beside_their_fields(school: School) -> None:
    visitor = school.visitor()
    await visitor.get("/register")
    response = await visitor.post("/register", {"email": f"{unique('short')}@example.org", "password": "short"})
    assert response.status_code == 400
    assert 'role="alert"' in response.text
    assert re.search(r'id="password"[^>]*aria-invalid="true"', response.text)
    assert visitor.cookie("byway_session") is None


async def test_no_input_gives_a_server_error(school: School) -> None:
    visitor = await student(school)
    await visitor.get("/")
    csrf = visitor.csrf
    assert (
        await visitor.client.post("/login", content=b'{"email": 1}', headers={"content-type": "application/json"})
    ).status_code == 400
    assert (
        await visitor.client.post(
            "/login",
            content=f"csrf={csrf}&email=a%00b".encode(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    ).status_code == 400
    assert (
        await visitor.client.post(
            "/login", content=b"csrf=\xff\xfe", headers={"content-type": "application/x-www-form-urlencoded"}
        )
    ).status_code == 400
    assert (
        await visitor.client.post(
            "/register", content=b"a=" + b"x" * 300_000, headers={"content-type": "application/x-www-form-urlencoded"}
        )
    ).status_code == 400
    for path in (
        "/courses/%00",
        "/lessons/x?course=%ff",
        "/certificates/nope",
        "/?after=zzz",
        "/checkout/success",
        "/checkout/status",
        "/reset-password",
        "/verify-email",
        "/teach/courses/nope",
        "/teach/lessons/nope",
    ):
        response = await visitor.client.get(path)
        assert response.status_code < 500, (path, response.status_code)
    for garbage in ("not base64 at all!", "e30", "W10", "eyJhIjogMSwgInIiOiAyfQ"):
        response = await school.visitor().client.get("/", headers={"cookie": f"byway_session={garbage}"})
        assert response.status_code == 200
        assert any(c.startswith('byway_session=""') for c in response.headers.get_list("set-cookie"))


async def test_an_unreachable_plugin_gives_a_page_that_says_so(school: School) -> None:
    visitor = school.visitor()
    failing = FailingTransport(school.host.transport_for("teach-internal"))
    with school.host.override_transport("teach-internal", failing):
        response = await visitor.get("/")
    assert response.status_code == 503 and "Temporarily unavailable" in response.text


# --- accounts: reset and verification from the dev mailbox --------------------------------------------


async def test_forgot_password_reset_link_from_the_mailbox_and_the_new_password_works(school: School) -> None:
    email = f"{unique('forgetful')}@example.org"
    visitor = school.visitor()
    await visitor.register(email, password="first password 1")
    await visitor.get("/logout")
    await visitor.post("/logout")
    await visitor.get("/forgot-password")
    response = await visitor.post("/forgot-password", {"email": email})
    assert "we sent it a link" in text_of(response.text)
    link = await school.link_in_mail(email, "/reset-password")
    page = await visitor.get(link)
    assert page.headers["referrer-policy"] == "no-referrer"
    response = await visitor.post(
        "/reset-password", {"token": parse_token(link), "password": "second password 2", "confirm": "second password 2"}
    )
    assert "Your password is changed" in response.text
    stranger = school.visitor()
    assert (await stranger.login(email, "first password 1")).status_code == 400
    assert "You are signed in" in (await school.visitor().login(email, "second password 2")).text
    await visitor.get(link)
    used = await visitor.post(
        "/reset-password", {"token": parse_token(link), "password": "third password 3", "confirm": "third password 3"}
    )
    assert used.status_code == 400 and "invalid, already used or expired" in used.text


def parse_token(link: str) -> str:
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(link).query)["token"][0]


async def test_verify_the_email_from_the_mailbox(school: School) -> None:
    email = f"{unique('new')}@example.org"
    visitor = school.visitor()
    await visitor.register(email)
    link = await school.link_in_mail(email, "/verify-email")
    page = await visitor.get(link)
    assert "Verify my email address" in page.text
    response = await visitor.post("/verify-email", {"token": parse_token(link)})
    assert "your email address is verified" in response.text
    me = await school.gql("authentication", "query { me { emailVerified } }", token=visitor_token(visitor, school))
    assert me["data"]["me"]["emailVerified"] is True


# --- teaching -------------------------------------------------------------------------------------------


async def test_a_new_teacher_builds_and_publishes_a_course_through_teach(school: School) -> None:
    teacher = await student(school)
    page = await teacher.get("/teach")
    assert "Become a teacher" in page.text
    response = await teacher.post("/teach/profile", {"bio": "I teach knots.", "subjects": "Sailing, Knots"})
    assert "waiting for an admin" in response.text
    profile = await school.gql("teach", "query { myTeacherProfile { id } }", token=visitor_token(teacher, school))
    verified = await school.gql(
        "teach",
        "mutation($id: ID!) { verifyTeacherProfile(id: $id) { verified } }",
        {"id": profile["data"]["myTeacherProfile"]["id"]},
        token=school.facts["admin_token"],
    )
    assert verified["data"]["verifyTeacherProfile"]["verified"] is True
    await teacher.get("/teach/courses/new")
    title = unique("Knots for sailors")
    response = await teacher.post(
        "/teach/courses/new",
        {
            "title": title,
            "description": "Bowline, cleat hitch and more",
            "price": "12.50",
            "currency": "usd",
            "category": "Outdoors",
            "difficulty": "BEGINNER",
            "coverUrl": "https://example.org/knot.png",
        },
    )
    course_id = re.search(r"/teach/courses/(\w+)", str(response.url)).group(1)
    for name in ("Basics", "Advanced"):
        await teacher.post(f"/teach/courses/{course_id}/modules", {"title": name})
    page = teacher.page
    module_ids = re.findall(r'action="/teach/modules/(\w+)/lessons"', page)
    assert len(module_ids) == 2
    for name in ("Bowline", "Cleat hitch"):
        await teacher.post(
            f"/teach/modules/{module_ids[0]}/lessons",
            {"course": course_id, "title": name, "type": "TEXT", "content": f"How to tie a {name}"},
        )
    await teacher.post(
        f"/teach/modules/{module_ids[1]}/lessons",
        {
            "course": course_id,
            "title": "Splice",
            "type": "VIDEO",
            "duration": "4",
            "videoUrl": "https://example.org/splice.mp4",
            "preview": "on",
        },
    )
    lessons = await lessons_of(school, course_id, visitor_token(teacher, school))
    assert [lesson["title"] for lesson in lessons] == ["Bowline", "Cleat hitch", "Splice"]
    # Reorder: the cleat hitch first, the advanced module first; rename; edit; delete.
    await teacher.post(
        f"/teach/modules/{module_ids[0]}/lessons/move", {"course": course_id, "id": lessons[1]["id"], "direction": "up"}
    )
    await teacher.post(f"/teach/courses/{course_id}/modules/move", {"id": module_ids[1], "direction": "up"})
    await teacher.post(f"/teach/modules/{module_ids[0]}", {"course": course_id, "title": "Basic knots"})
    await teacher.get(f"/teach/lessons/{lessons[0]['id']}", params={"course": course_id})
    await teacher.post(
        f"/teach/lessons/{lessons[0]['id']}",
        {"course": course_id, "title": "The bowline", "type": "QUIZ", "duration": "2", "content": "Tie it"},
    )
    await teacher.post(f"/teach/lessons/{lessons[2]['id']}/delete", {"course": course_id})
    after = await school.gql("teach-internal", LESSONS_OF, {"id": course_id}, token=visitor_token(teacher, school))
    modules = sorted(after["data"]["course"]["modules"], key=lambda m: m["position"])
    assert [m["title"] for m in modules] == ["Advanced", "Basic knots"]
    assert modules[0]["lessons"] == []
    basics = sorted(modules[1]["lessons"], key=lambda lesson: lesson["position"])
    assert [(lesson["title"], lesson["type"], lesson["duration"]) for lesson in basics] == [
        ("Cleat hitch", "TEXT", None),
        ("The bowline", "QUIZ", 120),
    ]
    # Not in the catalog until published; then found by a word of its description.
    assert title not in (await school.visitor().get("/", params={"q": "cleat"})).text
    response = await teacher.post(f"/teach/courses/{course_id}/publish", {"published": "true"})
    assert "it is in the catalog now" in response.text
    found = text_of((await school.visitor().get("/", params={"q": "cleat"})).text)
    assert title in found and "12.50 USD" in found


async def test_secure_cookies_are_host_prefixed_and_bring_hsts(byway_settings: Settings) -> None:
    settings = byway_settings.with_overrides(plugins={"storefront": {"cookie_secure": "true"}})
    async with open_school(settings) as school:
        visitor = school.visitor()
        page = await visitor.client.get("/login")
        assert page.headers["strict-transport-security"].startswith("max-age=")
        csrf_cookie = next(c for c in page.headers.get_list("set-cookie") if c.startswith("__Host-byway_csrf="))
        assert "Secure" in csrf_cookie and "HttpOnly" in csrf_cookie and "Path=/" in csrf_cookie
        token = CSRF_FIELD.search(page.text).group(1)
        seed = csrf_cookie.split(";")[0].split("=", 1)[1]
        response = await visitor.client.post(
            "/login",
            data={"csrf": token, "email": school.facts["student_email"], "password": school.facts["demo_password"]},
            headers={"cookie": f"__Host-byway_csrf={seed}"},
        )
        assert response.status_code == 303
        session = next(c for c in response.headers.get_list("set-cookie") if c.startswith("__Host-byway_session="))
        assert "Secure" in session and "HttpOnly" in session and "SameSite=lax" in session


def test_bad_settings_are_refused() -> None:
    for bad in (
        {"page_size": "0"},
        {"poll_seconds": "1"},
        {"cookie_secure": "maybe"},
        {"colour": "red"},
        {"page_size": "many"},
    ):
        with pytest.raises(ConfigurationError):
            config_from_mapping(StorefrontConfig, "storefront", bad)
    assert config_from_mapping(StorefrontConfig, "storefront", {"page_size": "5"}).page_size == 5


async def test_only_its_teacher_edits_a_course(school: School) -> None:
    paid = school.facts["paid_course_id"]
    intruder = await student(school)
    assert (await intruder.get(f"/teach/courses/{paid}")).status_code == 404
    await intruder.get("/teach")
    for path, form in (
        (f"/teach/courses/{paid}", {"title": "Mine now", "price": "0"}),
        (f"/teach/courses/{paid}/publish", {"published": "false"}),
        (f"/teach/courses/{paid}/modules", {"title": "Extra"}),
    ):
        response = await intruder.post(path, form)
        assert response.status_code in (403, 404), (path, response.status_code)
    lessons = await lessons_of(school, paid, school.facts["teacher_token"])
    response = await intruder.post(f"/teach/lessons/{lessons[0]['id']}/delete", {"course": paid})
    assert response.status_code in (403, 404)
    after = await lessons_of(school, paid, school.facts["teacher_token"])
    assert after == lessons
    course = await school.gql("teach-internal", "query($id: ID!) { course(id: $id) { title published } }", {"id": paid})
    assert course["data"]["course"] == {"title": "Async Python in Production", "published": True}


async def test_each_page_makes_a_fixed_set_of_calls(school: School) -> None:
    free, paid = school.facts["free_course_id"], school.facts["paid_course_id"]
    lesson = (await lessons_of(school, free, school.facts["teacher_token"]))[0]["id"]
    visitor = school.visitor()
    await visitor.login(school.facts["student_email"], school.facts["demo_password"])
    expected = {
        "/": ["Catalog"],
        "/?q=python&category=programming&price=free": ["Catalog"],
        f"/courses/{paid}": ["Course", "MyProgress"],
        f"/lessons/{lesson}?course={free}": ["LessonCourse", "MyProgress"],
        f"/lessons/{lesson}": ["LessonCourse", "LessonCourseId", "MyProgress"],
        "/my/courses": ["MyCourses"],
        "/my/orders": ["MyOrders"],
        "/teach": ["MyTeacherProfile", "TeachingCourses"],
        "/login": [],
        "/checkout/cancel": [],
    }
    for path, operations in expected.items():
        with school.host.observe_calls() as calls:
            response = await visitor.client.get(path)
        assert response.status_code == 200, path
        assert sorted(c.operation for c in calls if c.caller == "storefront") == operations, path
        assert all(c.as_kind == "user" for c in calls if c.caller == "storefront" and c.operation != "LessonCourseId")


async def test_too_many_wrong_passwords_say_when_to_try_again(school: School) -> None:
    email = f"{unique('target')}@example.org"
    await school.visitor().register(email)
    visitor = school.visitor()
    statuses = []
    for _ in range(12):
        await visitor.get("/login")
        response = await visitor.post("/login", {"email": email, "password": "not the password"})
        statuses.append(response.status_code)
    assert statuses[0] == 400 and statuses[-1] == 429
    assert "Too many attempts" in response.text and "try again" in response.text and 'role="alert"' in response.text
