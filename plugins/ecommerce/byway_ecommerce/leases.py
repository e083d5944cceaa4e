"""Who holds a claim, and freeing the claims of a process that died.

Workers (the enrollment outbox, the email outbox, the dev provider's event deliveries) stamp the
rows they claim with their process's owner id, ``<host>:<pid>:<random>``. When a server starts,
the rows claimed by a process of the same host that no longer runs (or by an earlier process with
our own pid, as in a container where the server is always pid 1) are made due again at once,
instead of waiting out their lease: a server killed mid-delivery finishes the work within seconds of
its restart. Claims of other hosts are left to their lease (they may be alive).
"""

from __future__ import annotations

import os
import secrets
import socket
from typing import TYPE_CHECKING

from byway_ecommerce.models import OWNER_MAX, dev_deliveries, email_outbox, enrollment_outbox
from byway_ecommerce.store import leases as store

if TYPE_CHECKING:
    from byway import PluginRuntime

_owner: tuple[int, str] | None = None


def process_id() -> str:
    """This process's owner id (a new one after a fork)."""
    global _owner
    pid = os.getpid()
    if _owner is None or _owner[0] != pid:
        _owner = (pid, f"{socket.gethostname()}:{pid}:{secrets.token_hex(4)}"[-OWNER_MAX:])
    return _owner[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def is_dead(owner: str) -> bool:
    """Whether the process that wrote ``owner`` is certainly gone (same host, pid not running, or
    our own pid with another random part)."""
    host, _, pid_text = owner.rpartition(":")[0].rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return owner != process_id()
    return not _alive(pid)


async def recover(plugin: PluginRuntime) -> int:
    """Free every claim of a dead process of this host in the plugin's database; the rows freed."""
    freed = 0
    for table in (enrollment_outbox, email_outbox, dev_deliveries):
        async with plugin.sessions() as session, session.begin():
            owners = [owner for owner in await store.claim_owners(session, table) if is_dead(owner)]
            if owners:
                freed += await store.free(session, table, owners)
    if freed:
        plugin.log.warning("freed %d claim(s) held by a process that died; delivering them now", freed)
    return freed
