"""ecommerce's audit log: who refunded, reconciled or resolved what, when and from where.

Entries go in ecommerce's own ``audit_log`` table (:func:`byway.audit.audit_table`), written in the
transaction of the action they describe; admins read them with ``auditLog``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from byway import Principal, audit_entries, record_audit
from byway_ecommerce.models import audit_log


async def record(
    session: AsyncSession,
    *,
    principal: Principal | str,
    action: str,
    target: str | None = None,
    details: Mapping[str, Any] | None = None,
    client_address: str | None = None,
) -> None:
    """One entry in the caller's transaction (commits with the action or not at all)."""
    await record_audit(
        session,
        audit_log,
        principal=principal,
        action=action,
        target=target,
        details=details,
        client_address=client_address,
    )


async def entries(session: AsyncSession, *, first: int, after: str | None) -> list[dict[str, Any]]:
    """Entries newest first (``auditLog``)."""
    return await audit_entries(session, audit_log, first=first, after=after)
