"""``ecommerce``'s part of ``byway demo``: how to buy the demo's paid course (nothing is created).

A paid order only comes from a payment, so the step seeds no orders; it tells the person running
the demo which provider takes the money and which course and account to try it with.
"""

from __future__ import annotations

from typing import Any

from byway import DemoStep, PluginRuntime
from byway_ecommerce.config import config_of


async def seed(plugin: PluginRuntime, facts: dict[str, Any]) -> list[str]:
    """Lines naming the payment provider and the paid course to check out (after teach-internal's step)."""
    if config_of(plugin).uses_stripe:
        provider = "Stripe Checkout (stripe_secret_key is set)"
    else:
        provider = "the dev payment provider (no Stripe key: Pay on the dev checkout page, no real money)"
    lines = [f"ecommerce: payments go through {provider}"]
    course_id = facts.get("paid_course_id")
    if course_id:
        who = facts.get("student_email") or "the demo student"
        lines.append(
            f"ecommerce: buy the paid course {course_id} as {who}: createCheckout at /api/ecommerce/graphql, "
            "open the returned url, press Pay; verifyCheckout then reports ok"
        )
    return lines


DEMO_STEP = DemoStep(order=50, run=seed)
