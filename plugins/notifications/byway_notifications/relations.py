"""Cross-plugin ID fields of ``notifications``: none (it stores addresses, not other plugins' ids)."""

from __future__ import annotations

from byway.declarations import Relation

RELATIONS: list[Relation] = []
