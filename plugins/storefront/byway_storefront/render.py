"""Rendering: the Jinja2 environment with its filters, the assets, and the security headers of every page."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from byway import PluginRuntime
from byway_storefront.config import secure_cookies

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
#: Where the plugin serves its CSS, JavaScript and icon.
ASSETS_PATH = "/assets"


def _asset_versions() -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:12] for p in STATIC_DIR.iterdir() if p.is_file()}


LEVELS = {"BEGINNER": "Beginner", "INTERMEDIATE": "Intermediate", "ADVANCED": "Advanced"}
ZERO_DECIMAL = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF"})


def money(cents: int | None, currency: str | None) -> str:
    """``4900, "USD"`` → ``"49.00 USD"``; 0 → ``"Free"``."""
    if not cents:
        return "Free"
    code = (currency or "USD").upper()
    if code in ZERO_DECIMAL:
        return f"{cents} {code}"
    return f"{cents // 100}.{cents % 100:02d} {code}"


def minutes(seconds: int | None) -> str:
    """A lesson duration for people: ``"5 min"`` (empty when unknown)."""
    if not seconds:
        return ""
    return f"{max(1, round(seconds / 60))} min"


def day(iso: str | None) -> str:
    """An ISO-8601 timestamp as a date for people: ``"30 Nov 2026"``."""
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso).strftime("%-d %b %Y")
    except ValueError:
        return iso


_CODE = re.compile(r"`([^`\n]+)`")


def prose(text: str | None) -> Markup:
    """Lesson text as HTML: paragraphs at blank lines, line breaks, `code` in backticks; all else escaped."""
    paragraphs = [p.strip() for p in (text or "").replace("\r\n", "\n").split("\n\n") if p.strip()]
    html = []
    for paragraph in paragraphs:
        escaped = str(escape(paragraph))
        html.append("<p>" + _CODE.sub(r"<code>\1</code>", escaped).replace("\n", "<br>") + "</p>")
    return Markup("\n".join(html))


def build_environment() -> Environment:
    """The Jinja2 environment: autoescaped HTML templates shipped in the package."""
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    versions = _asset_versions()
    env.globals["asset"] = lambda name: f"{ASSETS_PATH}/{name}?v={versions.get(name, '0')}"
    env.filters["money"] = money
    env.filters["minutes"] = minutes
    env.filters["day"] = day
    env.filters["prose"] = prose
    env.filters["zip_levels"] = lambda values: [(v, LEVELS.get(v, v)) for v in values]
    env.filters["zip_types"] = lambda values: [(v, v.capitalize()) for v in values]
    return env


def security_headers(plugin: PluginRuntime) -> dict[str, str]:
    """Headers on every page: a strict CSP (no inline script or style), no framing, no sniffing."""
    headers = {
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: http: data:; "
            "media-src 'self' https: http:; connect-src 'self'; form-action 'self' https: http:; "
            "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cache-Control": "no-store",
    }
    if plugin.settings.is_production or secure_cookies(plugin):
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return headers
