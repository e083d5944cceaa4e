"""The dev payment provider's checkout page: ``/api/ecommerce/dev-checkout/<session id>``.

GET shows the courses, the total and Pay / Cancel buttons, in a form carrying a CSRF token (an
HMAC of the session id: a POST without it, e.g. from another site, is refused with 403). POST
``action=pay`` completes the session and stores the Stripe-format ``checkout.session.completed``
event it owes the webhook in the same transaction, then delivers it signed the way Stripe does
(``Stripe-Signature`` with the webhook secret) to the webhook handler — the same verification and
fulfilment code real Stripe events go through — and redirects (303) to the success URL with the
session id. An event that could not be delivered is retried (:mod:`byway_ecommerce.dev_deliveries`).
``action=cancel`` expires the session (delivered as a
signed ``checkout.session.expired`` event, which cancels the order) and redirects to the cancel
URL. A session that a newer checkout of the same buyer superseded is expired: its page says so and
its Pay button is refused (409), like Stripe's page of an expired session.
Only served while the dev provider is active (never in production).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from byway import read_body
from byway_ecommerce import dev_deliveries, leases, pause
from byway_ecommerce.dev_provider import DevProvider
from byway_ecommerce.money import money
from byway_ecommerce.state import state_of, webhook_secret
from byway_ecommerce.store import dev as dev_store
from byway_ecommerce.store import orders as order_store

if TYPE_CHECKING:
    from byway import PluginRuntime

#: A checkout form is tiny; anything bigger is refused.
MAX_FORM_BYTES = 4096


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem}"
        "table{width:100%;border-collapse:collapse}td{padding:.4rem 0;border-bottom:1px solid #ddd}"
        "td.price{text-align:right}button{font-size:1rem;padding:.6rem 1.4rem;margin-right:.6rem}"
        ".note{color:#666;font-size:.9rem}</style></head>"
        f"<body>{body}</body></html>",
        status_code=status,
    )


def csrf_token(plugin: PluginRuntime, session_id: str) -> str:
    """The form token of a session's page: an HMAC of the session id under this server's webhook secret.

    A page on another site can make a browser POST to the checkout URL, but cannot read the page,
    so it cannot know the token: the Pay button works only from the page itself.
    """
    key = hashlib.sha256(b"byway-dev-checkout-csrf:" + webhook_secret(plugin).encode("utf-8")).digest()
    return hmac.new(key, session_id.encode("utf-8"), hashlib.sha256).hexdigest()


def _provider(plugin: PluginRuntime) -> DevProvider | None:
    provider = state_of(plugin).provider
    return provider if isinstance(provider, DevProvider) else None


CLOSED = "This checkout has expired or was cancelled"
SUPERSEDED = "This checkout was replaced by a newer checkout of the same course; nothing was charged here"


async def _closed_reason(plugin: PluginRuntime, order_id: str) -> str:
    async with plugin.sessions() as session:
        superseded = await order_store.superseded_at(session, order_id)
    return SUPERSEDED if superseded is not None else CLOSED


async def checkout_page(plugin: PluginRuntime, request: Request) -> Response:
    """GET: the checkout page of a dev session."""
    provider = _provider(plugin)
    session_id = request.path_params["session_id"]
    if provider is None:
        return _page("Not found", "<h1>Not found</h1>", 404)
    async with plugin.sessions() as session:
        row = await dev_store.get_session(session, session_id)
    checkout = await provider.retrieve_session(session_id)
    if row is None or checkout is None:
        return _page("Not found", "<h1>Unknown checkout session</h1>", 404)
    lines = "".join(
        f"<tr><td>{html.escape(item['title'])}</td>"
        f"<td class='price'>{html.escape(money(item['price_cents'], item['currency']))}</td></tr>"
        for item in json.loads(row.line_items)
    )
    total = html.escape(money(row.amount_total, row.currency))
    if checkout.status == "open":
        actions = (
            "<form method='post'>"
            f"<input type='hidden' name='csrf_token' value='{csrf_token(plugin, session_id)}'>"
            "<button type='submit' name='action' value='pay' id='pay'>Pay</button>"
            "<button type='submit' name='action' value='cancel' id='cancel'>Cancel</button>"
            "</form>"
        )
    elif checkout.is_paid:
        actions = "<p id='state'>This checkout is paid.</p>"
    else:
        actions = f"<p id='state'>{html.escape(await _closed_reason(plugin, row.order_id))}.</p>"
    body = (
        "<h1>Byway checkout</h1>"
        "<p class='note'>Development payment provider: no real money moves.</p>"
        f"<table>{lines}<tr><td><strong>Total</strong></td><td class='price' id='total'>"
        f"<strong>{total}</strong></td></tr></table>{actions}"
    )
    return _page("Byway checkout", body)


async def checkout_action(plugin: PluginRuntime, request: Request) -> Response:
    """POST ``action=pay|cancel``: complete or cancel the session, deliver the signed event, redirect."""
    provider = _provider(plugin)
    session_id = request.path_params["session_id"]
    if provider is None:
        return _page("Not found", "<h1>Not found</h1>", 404)
    body = await read_body(request, MAX_FORM_BYTES)
    try:
        form = parse_qs(body.decode("utf-8"), max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        form = {}
    action = (form.get("action") or [""])[0]
    if action not in {"pay", "cancel"}:
        return _page("Bad request", "<h1>Bad request</h1><p>action must be pay or cancel.</p>", 400)
    before = await provider.retrieve_session(session_id)
    if before is None:
        return _page("Not found", "<h1>Unknown checkout session</h1>", 404)
    token = (form.get("csrf_token") or [""])[0]
    if not hmac.compare_digest(token.encode("utf-8"), csrf_token(plugin, session_id).encode("utf-8")):
        return _page("Forbidden", "<h1>This form has expired: reload the checkout page and try again</h1>", 403)
    owner = leases.process_id()
    if action == "pay":
        after, event_id = await provider.mark_paid(session_id, owner=owner)
        if after is None or not after.is_paid:
            reason = html.escape(await _closed_reason(plugin, str(before.order_id)))
            return _page("Checkout closed", f"<h1 id='state'>{reason}</h1>", 409)
        if event_id is not None:
            await pause.point(plugin, "after_dev_payment")
            if await dev_deliveries.deliver_now(plugin, event_id) != 200:
                message = "The payment was taken but could not be recorded yet; it is retried automatically"
                return _page("Payment pending", f"<h1>{message}</h1>", 502)
        target = str(after.raw["success_url"]).replace("{CHECKOUT_SESSION_ID}", session_id)
        return RedirectResponse(target, status_code=303)
    _, event_id = await provider.mark_expired(session_id, owner=owner)
    if event_id is not None:
        await dev_deliveries.deliver_now(plugin, event_id)
    return RedirectResponse(str(before.raw["cancel_url"]), status_code=303)
