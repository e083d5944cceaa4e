"""Accounts: register, sign in and out, forgotten passwords and email verification."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from byway import CrossPluginError, UpstreamUnavailable
from byway_storefront.operations import (
    LOGIN,
    LOGOUT,
    REGISTER,
    REQUEST_EMAIL_VERIFICATION,
    REQUEST_PASSWORD_RESET,
    RESET_PASSWORD,
    VERIFY_EMAIL,
)
from byway_storefront.session import AuthTokens
from byway_storefront.site import Visit, retry_after, safe_next

#: The argument names of authentication's operations → the form fields that carry them.
FIELDS = {
    "email": "email",
    "password": "password",
    "newPassword": "password",
    "firstName": "firstName",
    "lastName": "lastName",
    "token": "token",
}


def form_errors(exc: CrossPluginError, general: str | None = None) -> dict[str, str]:
    """A refusal as errors to show beside the form's fields (``form`` for the whole form)."""
    if exc.code == "RATE_LIMITED":
        return {"form": f"Too many attempts. {retry_after(exc)}"}
    if exc.code == "BAD_USER_INPUT":
        field = exc.extensions.get("field")
        return {FIELDS.get(str(field), "form"): exc.remote_message}
    if exc.code in ("UPSTREAM_UNAVAILABLE", "INTERNAL"):
        return {"form": "This part of the school is unavailable right now. Please try again in a minute."}
    return {"form": general or exc.remote_message}


async def register(visit: Visit) -> Response:
    """``/register``: create an account, sign in, and say a verification email is on its way."""
    next_path = safe_next(visit.request.query_params.get("next") or visit.form.get("next"))
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if visit.request.method == "POST":
        values = visit.form.values()
        email, password = visit.form.text("email"), visit.form.get("password")
        if not email:
            errors["email"] = "Enter your email address."
        if not password:
            errors["password"] = "Choose a password of at least 10 characters."
        if not errors:
            variables = {
                "email": email,
                "password": password,
                "firstName": visit.form.text("firstName") or None,
                "lastName": visit.form.text("lastName") or None,
            }
            try:
                data = await visit.call("authentication", REGISTER, variables)
            except CrossPluginError as exc:
                errors = form_errors(exc)
            else:
                visit.session.sign_in(AuthTokens.from_payload(data["register"]))
                return visit.redirect(next_path, notice="registered")
    status = 400 if errors else 200
    return visit.render("register.html", status=status, values=values, errors=errors, next=next_path)


async def login(visit: Visit) -> Response:
    """``/login``: sign in with email and password."""
    next_path = safe_next(visit.request.query_params.get("next") or visit.form.get("next"))
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if visit.request.method == "POST":
        values = {"email": visit.form.text("email")}
        variables = {"email": visit.form.text("email"), "password": visit.form.get("password")}
        if not variables["email"] or not variables["password"]:
            errors["form"] = "Enter your email address and your password."
        else:
            try:
                data = await visit.call("authentication", LOGIN, variables)
            except CrossPluginError as exc:
                errors = form_errors(exc, "Wrong email or password.")
                if exc.code == "BAD_USER_INPUT":
                    errors = {"form": "Wrong email or password."}
            else:
                visit.session.sign_in(AuthTokens.from_payload(data["login"]))
                return visit.redirect(next_path, notice="signed-in")
    status = 429 if "Too many" in errors.get("form", "") else (400 if errors else 200)
    return visit.render("login.html", status=status, values=values, errors=errors, next=next_path)


async def logout(visit: Visit) -> Response:
    """``/logout``: GET asks to confirm (no JavaScript needed); POST revokes the refresh token, ends the session."""
    if visit.request.method == "GET":
        if not visit.session.signed_in and not visit.session.refresh:
            return visit.redirect("/")
        return visit.render("logout.html")
    refresh = visit.session.refresh
    if refresh:
        try:
            await visit.call("authentication", LOGOUT, {"refreshToken": refresh})
        except (CrossPluginError, UpstreamUnavailable) as exc:
            # The cookie goes anyway; the refresh token then expires on its own.
            visit.plugin.log.warning("logout: could not revoke the refresh token: %s", exc)
    visit.session.sign_out()
    return visit.redirect("/", notice="signed-out")


async def forgot_password(visit: Visit) -> Response:
    """``/forgot-password``: ask for a reset link (the answer never says whether the account exists)."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if visit.request.method == "POST":
        email = visit.form.text("email")
        values = {"email": email}
        if not email:
            errors["email"] = "Enter the email address of your account."
        else:
            try:
                await visit.call("authentication", REQUEST_PASSWORD_RESET, {"email": email})
            except CrossPluginError as exc:
                errors = form_errors(exc)
            except UpstreamUnavailable:
                errors = {"form": "We cannot send email right now. Please try again in a few minutes."}
            else:
                return visit.redirect("/login", notice="reset-sent")
    return visit.render("forgot.html", status=400 if errors else 200, values=values, errors=errors)


async def reset_password(visit: Visit) -> Response:
    """``/reset-password?token=``: choose a new password with the emailed token, and sign in."""
    token = visit.form.get("token") if visit.request.method == "POST" else visit.request.query_params.get("token", "")
    token = token.strip()[:512]
    errors: dict[str, str] = {}
    if not token:
        errors["token"] = "This page needs the link from your email."
    elif visit.request.method == "POST":
        password, again = visit.form.get("password"), visit.form.get("confirm")
        if not password:
            errors["password"] = "Choose a new password of at least 10 characters."
        elif password != again:
            errors["confirm"] = "The two passwords are different."
        else:
            try:
                data = await visit.call("authentication", RESET_PASSWORD, {"token": token, "newPassword": password})
            except CrossPluginError as exc:
                errors = form_errors(exc)
            else:
                visit.session.sign_in(AuthTokens.from_payload(data["resetPassword"]))
                return visit.redirect("/", notice="password-reset")
    if "token" in errors:
        errors["token"] = "This link is invalid, already used or expired. Ask for a new one below."
    return visit.render("reset.html", status=400 if errors else 200, token=token, errors=errors)


async def verify_email(visit: Visit) -> Response:
    """``/verify-email?token=``: confirm the address (a button, so mail scanners cannot use the link up)."""
    token = visit.form.get("token") if visit.request.method == "POST" else visit.request.query_params.get("token", "")
    token = token.strip()[:512]
    errors: dict[str, str] = {}
    if not token:
        errors["token"] = "This page needs the link from your email."
    elif visit.request.method == "POST":
        try:
            await visit.call("authentication", VERIFY_EMAIL, {"token": token})
        except CrossPluginError as exc:
            errors = form_errors(exc)
        else:
            return visit.redirect("/", notice="email-verified")
    if "token" in errors:
        errors["token"] = "This link is invalid, already used or expired."
    return visit.render("verify.html", status=400 if errors else 200, token=token, errors=errors)


async def resend_verification(visit: Visit) -> Response:
    """POST ``/verify-email/resend``: send the signed-in visitor a new verification email."""
    visit.require_user()
    await visit.call("authentication", REQUEST_EMAIL_VERIFICATION)
    return visit.redirect("/", notice="verification-sent")
