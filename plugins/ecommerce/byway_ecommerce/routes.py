"""The REST endpoints of ``ecommerce``, mounted under ``/api/ecommerce/``.

* ``POST /stripe/webhook`` — Stripe-signed events only (see :mod:`byway_ecommerce.webhook`).
* ``POST /reconcile`` — admin only: an admin user's JWT (``Authorization: Bearer``) or the
  configured ``admin_token`` in ``X-Byway-Admin-Token`` (compared in constant time). Optional
  query parameter ``days`` (1-365). Returns the JSON summary of :mod:`byway_ecommerce.reconcile`.
* ``GET|POST /dev-checkout/<session id>`` — the dev provider's checkout page (dev only).
"""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from byway import BadUserInput, PluginRuntime, Principal, Unauthenticated, read_body, require_admin
from byway.auth import SERVICE
from byway_ecommerce.config import config_of
from byway_ecommerce.devcheckout import checkout_action, checkout_page
from byway_ecommerce.reconcile import reconcile
from byway_ecommerce.state import request_address
from byway_ecommerce.webhook import handle_webhook

ADMIN_TOKEN_HEADER = "x-byway-admin-token"


#: Who acted, in the audit log, when the admin token was presented.
ADMIN_TOKEN_ACTOR = Principal(kind=SERVICE, service="admin-token")


def authorize_reconcile(plugin: PluginRuntime, request: Request) -> Principal:
    """Admin JWT or the configured admin token; anonymous → 401, any other caller → 403. Returns who."""
    presented = request.headers.get(ADMIN_TOKEN_HEADER)
    if presented is not None:
        expected = config_of(plugin).admin_token
        if expected and hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8")):
            return ADMIN_TOKEN_ACTOR
        raise Unauthenticated("Invalid admin token")
    return require_admin(plugin.principal_for(request))


def _days(request: Request) -> int | None:
    raw = request.query_params.get("days")
    if raw is None:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 365:
        raise BadUserInput("days must be a whole number between 1 and 365", field="days")
    return int(raw)


def build_routes(plugin: PluginRuntime) -> list[BaseRoute]:
    """The plugin's routes, closing over its plugin."""

    async def stripe_webhook(request: Request) -> Response:
        payload = await read_body(request, plugin.settings.max_body_bytes)
        signature = request.headers.get("stripe-signature")
        status, body = await handle_webhook(plugin, payload, signature, request_address(plugin, request))
        return JSONResponse(body, status_code=status)

    async def reconcile_endpoint(request: Request) -> Response:
        actor = authorize_reconcile(plugin, request)
        address = request_address(plugin, request)
        return JSONResponse(await reconcile(plugin, days=_days(request), actor=actor, client_address=address))

    async def dev_checkout(request: Request) -> Response:
        if request.method == "GET":
            return await checkout_page(plugin, request)
        return await checkout_action(plugin, request)

    return [
        Route("/stripe/webhook", stripe_webhook, methods=["POST"]),
        Route("/reconcile", reconcile_endpoint, methods=["POST"]),
        Route("/dev-checkout/{session_id}", dev_checkout, methods=["GET", "POST"]),
    ]
