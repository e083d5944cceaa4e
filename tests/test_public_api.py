"""``import byway``: one public surface for plugin authors, cheap to import."""

from __future__ import annotations

import subprocess
import sys

import pytest

import byway

#: The names issue 7 (and spec/TEMPLATE.md) fix for plugin authors.
EXPECTED = {
    "hookimpl", "PluginInfo", "GraphQLApi", "Job", "DemoStep", "Operation", "Relation",
    "PluginRuntime", "RequestContext", "DataLoader",
    "Principal", "require_user", "require_admin", "require_service", "require_service_or_admin",
    "require_authenticated",
    "ByWayError", "Unauthenticated", "Forbidden", "NotFound", "BadUserInput", "AlreadyEnrolled", "Conflict",
    "UpstreamUnavailable", "CrossPluginError", "CallAs",
    "new_id", "utcnow", "UTCDateTime", "iso_utc", "insert_for", "held_ids", "one_of", "Reader", "Readable",
    "read_json", "read_body", "load_plugin_config",
}  # fmt: skip


def test_all_lists_every_public_name() -> None:
    assert EXPECTED <= set(byway.__all__)


@pytest.mark.parametrize("name", sorted(set(byway.__all__) - {"__version__"}))
def test_every_public_name_resolves_to_the_object_of_its_module(name: str) -> None:
    value = getattr(byway, name)
    assert value is not None
    module = byway._PUBLIC.get(name)
    if module is not None:
        assert value is getattr(sys.modules[module], name)
    assert name in dir(byway)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        byway.nothing_here  # type: ignore[attr-defined]  # noqa: B018


def test_importing_byway_is_cheap_and_has_no_cycles() -> None:
    code = (
        "import sys, byway\n"
        "heavy = [m for m in ('sqlalchemy', 'starlette', 'ariadne', 'graphql', 'httpx') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
        # Every name imports in a fresh interpreter, in any order (no import cycle).
        "for name in reversed(byway.__all__): getattr(byway, name)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
