"""Amounts for people: integer minor units shown with their currency's decimals."""

from __future__ import annotations

#: Currencies without a minor unit (Stripe's list): their amounts are whole units.
ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)


def money(cents: int, currency: str) -> str:
    """``4900, "USD"`` → ``"49.00 USD"``; ``1, "JPY"`` → ``"1 JPY"``."""
    code = currency.upper()
    sign, cents = ("-" if cents < 0 else ""), abs(cents)
    if code in ZERO_DECIMAL:
        return f"{sign}{cents} {code}"
    return f"{sign}{cents // 100}.{cents % 100:02d} {code}"
