"""Stripe-format events of the dev payment provider, signed the way Stripe signs them."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import stripe


def stripe_event(event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
    """A Stripe-format event wrapping ``obj``."""
    return {
        "id": "evt_dev_" + secrets.token_hex(12),
        "object": "event",
        "api_version": stripe.api_version,
        "created": int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
        "data": {"object": obj},
    }


def signed_payload(event: dict[str, Any], secret: str) -> tuple[bytes, str]:
    """The event's JSON body and its ``Stripe-Signature`` header, signed as Stripe signs (now)."""
    payload = json.dumps(event, separators=(",", ":"))
    return payload.encode("utf-8"), stripe.WebhookSignature.generate_signature_header(payload, secret)
