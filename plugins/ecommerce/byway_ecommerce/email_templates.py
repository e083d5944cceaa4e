"""The receipt and refund notice: plain text plus simple HTML, links from the public base URL."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from byway_ecommerce.money import money

RECEIPT = "receipt"
REFUND = "refund"


@dataclass(frozen=True)
class Email:
    """A message ready for ``sendEmail``."""

    subject: str
    text: str
    html: str


def compose(kind: str, order: Any, items: Sequence[Any], base_url: str, orders_path: str, course_path: str) -> Email:
    """The email of ``kind`` for an order (``order.id``, ``total_cents``, ``currency``) and its items."""
    base = base_url.rstrip("/")
    orders_link = f"{base}{orders_path}"
    total = money(order.total_cents, order.currency)
    lines = [
        (item.title, money(item.price_cents, item.currency), f"{base}{course_path.format(course_id=item.course_id)}")
        for item in items
    ]
    if kind == RECEIPT:
        subject = f"Your Byway receipt for order {order.id}"
        intro = "Thank you for your purchase. Your payment was received and these courses are yours:"
        outro = "They appear in your courses within moments."
    else:
        subject = f"Your Byway refund for order {order.id}"
        intro = "Your payment was refunded. Access to these courses has ended:"
        outro = "The money returns to your account as your bank processes it."
    text = "\n".join(
        [
            intro,
            "",
            *(f"- {title}: {price}\n  {link}" for title, price, link in lines),
            "",
            f"Total: {total}",
            outro,
            "",
            f"Your orders: {orders_link}",
        ]
    )
    rows = "".join(
        f"<li><a href='{html.escape(link, quote=True)}'>{html.escape(title)}</a>: {html.escape(price)}</li>"
        for title, price, link in lines
    )
    body = (
        f"<p>{html.escape(intro)}</p><ul>{rows}</ul><p><strong>Total: {html.escape(total)}</strong></p>"
        f"<p>{html.escape(outro)}</p><p><a href='{html.escape(orders_link, quote=True)}'>Your orders</a></p>"
    )
    return Email(subject=subject, text=text, html=body)
