"""A small Stripe-compatible server for tests: Checkout Sessions in Stripe's API shape.

It speaks what the real ``stripe`` SDK sends (form-encoded nested parameters, ``Authorization:
Bearer sk_...``, ``Idempotency-Key``) and answers JSON objects and errors the way Stripe does, so
the plugin's :class:`~byway_ecommerce.providers.StripeProvider` is exercised through the real SDK.
Serve ``FakeStripe().app`` with :func:`byway.testing.live_server` and point ``stripe_api_base`` at it.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SECRET_KEY = "sk_test_byway_fake"
#: Stripe's default lifetime of a Checkout Session.
SESSION_LIFETIME_SECONDS = 24 * 3600
WEBHOOK_SECRET = "whsec_test_byway_fake"

_KEY_PART = re.compile(r"\[([^\]]*)\]")


def parse_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding (``a[b][0][c]=v``) as nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        head = key.split("[", 1)[0]
        parts = [head, *_KEY_PART.findall(key)]
        node: Any = root
        for part, following in zip(parts, [*parts[1:], None], strict=True):
            index: Any = int(part) if part.isdigit() else part
            if following is None:
                _set(node, index, value)
            else:
                child = _get(node, index)
                if child is None:
                    child = [] if following.isdigit() else {}
                    _set(node, index, child)
                node = child
    return root


def _get(node: Any, index: Any) -> Any:
    if isinstance(node, list):
        return node[index] if index < len(node) else None
    return node.get(index)


def _set(node: Any, index: Any, value: Any) -> None:
    if isinstance(node, list):
        while len(node) <= index:
            node.append(None)
        node[index] = value
    else:
        node[index] = value


def _error(status: int, message: str, kind: str = "invalid_request_error", code: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message, "code": code}}, status_code=status)


class FakeStripe:
    """Checkout Sessions in memory, plus what the SDK sent and switches to fail."""

    def __init__(self) -> None:
        self.sessions: dict[str, dict[str, Any]] = {}
        #: (params, headers) of every create request.
        self.create_requests: list[tuple[dict[str, Any], dict[str, str]]] = []
        self.retrieve_count = 0
        #: Session ids of every expire request (refused ones included).
        self.expire_requests: list[str] = []
        self._idempotent: dict[str, dict[str, Any]] = {}
        #: Switch: answer creations with this HTTP status (an API error) instead.
        self.fail_create_status: int | None = None
        #: Switch: answer retrievals with HTTP 500.
        self.fail_retrieve = False
        #: Switch: answer expire requests with HTTP 500.
        self.fail_expire = False
        #: Sessions the buyer pays just before an expire request for them arrives (a race).
        self.pay_before_expire: set[str] = set()
        self.app = Starlette(
            routes=[
                Route("/v1/checkout/sessions", self._create, methods=["POST"]),
                Route("/v1/checkout/sessions/{session_id}", self._retrieve, methods=["GET"]),
                Route("/v1/checkout/sessions/{session_id}/expire", self._expire, methods=["POST"]),
            ]
        )

    def pay(self, session_id: str) -> dict[str, Any]:
        """The buyer paid on Stripe's page: the session completes with a PaymentIntent."""
        session = self.sessions[session_id]
        session.update(status="complete", payment_status="paid", payment_intent="pi_" + secrets.token_hex(12))
        return session

    def complete_unpaid(self, session_id: str) -> dict[str, Any]:
        """The buyer finished the page with a delayed payment method (e.g. a bank debit): complete, unpaid."""
        session = self.sessions[session_id]
        session.update(status="complete", payment_status="unpaid", payment_intent="pi_" + secrets.token_hex(12))
        return session

    def expire(self, session_id: str) -> dict[str, Any]:
        """The session expired unpaid."""
        session = self.sessions[session_id]
        session.update(status="expired", url=None)
        return session

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {SECRET_KEY}"

    async def _create(self, request: Request) -> JSONResponse:
        if not self._authorized(request):
            return _error(401, "Invalid API Key provided", "invalid_request_error")
        params = parse_form((await request.body()).decode())
        self.create_requests.append((params, dict(request.headers)))
        if self.fail_create_status is not None:
            return _error(self.fail_create_status, "Injected failure", "api_error")
        key = request.headers.get("idempotency-key")
        if key and key in self._idempotent:
            return JSONResponse(self._idempotent[key])
        items = params.get("line_items") or []
        if params.get("mode") != "payment" or not items:
            return _error(400, "mode payment and line_items are required", code="parameter_missing")
        amount = sum(int(i["price_data"]["unit_amount"]) * int(i.get("quantity", 1)) for i in items)
        session_id = "cs_test_" + secrets.token_hex(16)
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": "payment",
            "url": f"https://checkout.stripe.test/c/pay/{session_id}",
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": amount,
            "currency": items[0]["price_data"]["currency"],
            "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata") or {},
            "customer_email": params.get("customer_email"),
            "success_url": params.get("success_url"),
            "cancel_url": params.get("cancel_url"),
            "payment_intent": None,
            "created": int(time.time()),
            "expires_at": int(time.time()) + SESSION_LIFETIME_SECONDS,
            "livemode": False,
        }
        self.sessions[session_id] = session
        if key:
            self._idempotent[key] = session
        return JSONResponse(session)

    async def _retrieve(self, request: Request) -> JSONResponse:
        if not self._authorized(request):
            return _error(401, "Invalid API Key provided")
        self.retrieve_count += 1
        if self.fail_retrieve:
            return _error(500, "Injected failure", "api_error")
        session = self.sessions.get(request.path_params["session_id"])
        if session is None:
            return _error(404, "No such checkout.session", code="resource_missing")
        return JSONResponse(session)

    async def _expire(self, request: Request) -> JSONResponse:
        """``POST /v1/checkout/sessions/{id}/expire``: only an open session can be expired."""
        if not self._authorized(request):
            return _error(401, "Invalid API Key provided")
        session_id = request.path_params["session_id"]
        self.expire_requests.append(session_id)
        if self.fail_expire:
            return _error(500, "Injected failure", "api_error")
        session = self.sessions.get(session_id)
        if session is None:
            return _error(404, "No such checkout.session", code="resource_missing")
        if session_id in self.pay_before_expire:
            self.pay(session_id)
        if session["status"] != "open":
            return _error(400, f"A Checkout Session can only be expired when it is open, not {session['status']}")
        return JSONResponse(self.expire(session_id))
