"""Byway: a modular-monolith backend for selling and teaching online courses.

This module is the public surface for plugin authors: ``import byway`` and use ``byway.<name>``
for everything in :data:`__all__` (hook marker, declarations, the runtime and request context,
principals and permission checks, errors, database helpers, REST body readers, typed plugin
settings). Test helpers live in :mod:`byway.testing`. Nothing else is needed to write a plugin.

Importing ``byway`` is cheap: the names are loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import pluggy

__version__ = "0.1.0"

#: The one marker plugin authors use: ``@byway.hookimpl def byway_register_plugin(): ...``
hookimpl = pluggy.HookimplMarker("byway")

#: Where each public name lives (loaded on first access, so ``import byway`` stays cheap).
_PUBLIC: dict[str, str] = {
    "PluginInfo": "byway.declarations",
    "GraphQLApi": "byway.declarations",
    "Job": "byway.declarations",
    "DemoStep": "byway.declarations",
    "Operation": "byway.declarations",
    "Relation": "byway.declarations",
    "PluginRuntime": "byway.runtime",
    "RequestContext": "byway.context",
    "DataLoader": "byway.context",
    "Principal": "byway.auth",
    "require_user": "byway.auth",
    "require_admin": "byway.auth",
    "require_service": "byway.auth",
    "require_service_or_admin": "byway.auth",
    "require_authenticated": "byway.auth",
    "ByWayError": "byway.errors",
    "Unauthenticated": "byway.errors",
    "Forbidden": "byway.errors",
    "NotFound": "byway.errors",
    "BadUserInput": "byway.errors",
    "AlreadyEnrolled": "byway.errors",
    "Conflict": "byway.errors",
    "UpstreamUnavailable": "byway.errors",
    "RateLimited": "byway.errors",
    "CrossPluginError": "byway.client",
    "CallAs": "byway.client",
    "new_id": "byway.db",
    "utcnow": "byway.db",
    "UTCDateTime": "byway.db",
    "iso_utc": "byway.db",
    "insert_for": "byway.db",
    "held_ids": "byway.db",
    "one_of": "byway.db",
    "Reader": "byway.db",
    "Readable": "byway.db",
    "Prepared": "byway.prepared",
    "scalars": "byway.prepared",
    "read_json": "byway.web",
    "read_body": "byway.web",
    "load_plugin_config": "byway.plugin_config",
    "audit_table": "byway.audit",
    "record_audit": "byway.audit",
    "audit_entries": "byway.audit",
    "before_delete": "byway.cascade",
}

__all__ = ["__version__", "hookimpl", *_PUBLIC]

if TYPE_CHECKING:
    from byway.audit import audit_entries as audit_entries
    from byway.audit import audit_table as audit_table
    from byway.audit import record_audit as record_audit
    from byway.auth import Principal as Principal
    from byway.auth import require_admin as require_admin
    from byway.auth import require_authenticated as require_authenticated
    from byway.auth import require_service as require_service
    from byway.auth import require_service_or_admin as require_service_or_admin
    from byway.auth import require_user as require_user
    from byway.cascade import before_delete as before_delete
    from byway.client import CallAs as CallAs
    from byway.client import CrossPluginError as CrossPluginError
    from byway.context import DataLoader as DataLoader
    from byway.context import RequestContext as RequestContext
    from byway.db import Readable as Readable
    from byway.db import Reader as Reader
    from byway.db import UTCDateTime as UTCDateTime
    from byway.db import held_ids as held_ids
    from byway.db import insert_for as insert_for
    from byway.db import iso_utc as iso_utc
    from byway.db import new_id as new_id
    from byway.db import one_of as one_of
    from byway.db import utcnow as utcnow
    from byway.declarations import DemoStep as DemoStep
    from byway.declarations import GraphQLApi as GraphQLApi
    from byway.declarations import Job as Job
    from byway.declarations import Operation as Operation
    from byway.declarations import PluginInfo as PluginInfo
    from byway.declarations import Relation as Relation
    from byway.errors import AlreadyEnrolled as AlreadyEnrolled
    from byway.errors import BadUserInput as BadUserInput
    from byway.errors import ByWayError as ByWayError
    from byway.errors import Conflict as Conflict
    from byway.errors import Forbidden as Forbidden
    from byway.errors import NotFound as NotFound
    from byway.errors import RateLimited as RateLimited
    from byway.errors import Unauthenticated as Unauthenticated
    from byway.errors import UpstreamUnavailable as UpstreamUnavailable
    from byway.plugin_config import load_plugin_config as load_plugin_config
    from byway.prepared import Prepared as Prepared
    from byway.prepared import scalars as scalars
    from byway.runtime import PluginRuntime as PluginRuntime
    from byway.web import read_body as read_body
    from byway.web import read_json as read_json


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'byway' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})
