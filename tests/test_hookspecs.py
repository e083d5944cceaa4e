"""The hook specifications: named by family, marked, typed (docs and coverage: ``test_hook_docs.py``)."""

from __future__ import annotations

import inspect

import pytest

from byway import hookspecs

HOOKS = sorted(name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("byway_"))


def test_hook_names_are_verb_first_families() -> None:
    assert len(HOOKS) == 14
    families = ("byway_register_", "byway_startup", "byway_shutdown", "byway_status")
    assert all(name.startswith(families) for name in HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_a_typed_hookspec(hook: str) -> None:
    spec = getattr(hookspecs, hook)
    assert getattr(spec, f"{hookspecs.PROJECT}_spec") is not None  # marked with @hookspec
    assert spec.__annotations__.get("return"), f"{hook} has no return type"
