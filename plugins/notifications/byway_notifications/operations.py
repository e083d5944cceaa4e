"""GraphQL documents ``notifications`` sends to other plugins: none (it only receives)."""

from __future__ import annotations

from byway.declarations import Operation

OPERATIONS: list[Operation] = []
