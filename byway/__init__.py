"""Byway: a modular-monolith backend for selling and teaching online courses.

Plugin authors import :data:`hookimpl` to mark hook implementations; everything else a plugin
needs lives in :mod:`byway.declarations`, :mod:`byway.context`, :mod:`byway.auth`,
:mod:`byway.errors`, :mod:`byway.db` (ids, UTC timestamps, upserts), :mod:`byway.web`
(REST helpers) and :mod:`byway.testing`.
"""

import pluggy

__version__ = "0.1.0"

#: The one marker plugin authors use: ``@byway.hookimpl def byway_register_plugin(): ...``
hookimpl = pluggy.HookimplMarker("byway")

from byway.audit import audit_entries, audit_table, record_audit  # noqa: E402  (after hookimpl: no cycle)

__all__ = ["__version__", "audit_entries", "audit_table", "hookimpl", "record_audit"]
