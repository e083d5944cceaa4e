"""``GET /api/notifications/mailbox``: the stored messages in a page for a person (dev transport, not production)."""

from __future__ import annotations

import html
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from byway.errors import NotFound
from byway.runtime import PluginRuntime
from byway.web import error_response
from byway_notifications import store
from byway_notifications.config import config_of

_URL = re.compile(r"https?://[^\s<>\"']+")
PAGE_SIZE = 100


def _linkify(escaped: str) -> str:
    return _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)


def _message_html(message: dict[str, Any]) -> str:
    e = html.escape
    error = f'<p class="error">Last error: {e(message["lastError"])}</p>' if message["lastError"] else ""
    return (
        f'<article class="{e(message["status"])}">'
        f"<h2>{e(message['subject'])}</h2>"
        f'<p class="meta">To <b>{e(message["to"])}</b> · from {e(message["sender"])} · {e(message["createdAt"])}'
        f" · <span class=status>{e(message['status'])}</span></p>"
        f"{error}<pre>{_linkify(e(message['text']))}</pre></article>"
    )


def render_mailbox(messages: list[dict[str, Any]], *, to: str | None, transport: str) -> str:
    """The mailbox page (every value escaped; links in the text are clickable)."""
    title = f"Mailbox of {to}" if to else "Mailbox"
    items = "\n".join(_message_html(m) for m in messages) or "<p>No messages yet.</p>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} · Byway</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:56rem;margin:2rem auto;padding:0 1rem;color:#222}}
article{{border:1px solid #ddd;border-radius:6px;padding:0 1rem;margin:1rem 0}}
article.failed{{border-color:#c33}} .meta{{color:#666;font-size:.9rem}} .error{{color:#c33}}
pre{{white-space:pre-wrap;font-family:inherit}}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>Messages stored by the notifications plugin, newest first (transport: {html.escape(transport)}).
Filter with <code>?to=address</code>; the command line shows the same with <code>byway mail</code>.</p>
{items}
</body></html>"""


def build_routes(plugin: PluginRuntime) -> list[BaseRoute]:
    """The dev mailbox page."""

    async def mailbox(request: Request) -> Response:
        if plugin.settings.is_production or config_of(plugin).transport_name != "dev":
            # Real mail (reset links!) is never shown in a page: only the dev transport's messages.
            return error_response(NotFound("The mailbox page is served only in dev with the dev email transport"))
        to = request.query_params.get("to") or None
        async with plugin.sessions() as session:
            found = await store.list_messages(session, to=to, limit=PAGE_SIZE)
        return HTMLResponse(render_mailbox(found, to=to, transport=config_of(plugin).transport_name))

    return [Route("/mailbox", mailbox, methods=["GET"])]
