"""Meta-tests: every hook has a full docstring, is documented for plugin authors, and is exercised."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from byway import hookspecs

ROOT = Path(__file__).resolve().parents[1]
HOOKS = sorted(name for name, obj in vars(hookspecs).items() if name.startswith("byway_") and inspect.isfunction(obj))


def test_there_are_hooks() -> None:
    assert "byway_register_plugin" in HOOKS and len(HOOKS) >= 10


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_docstring(hook: str) -> None:
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert len(doc) > 40, f"{hook} needs a docstring that states its contract"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_in_plugin_docs(hook: str) -> None:
    assert f"`{hook}(" in (ROOT / "docs" / "writing-plugins.md").read_text(), f"{hook} is not documented"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_implemented_by_a_test_plugin(hook: str) -> None:
    sources = "\n".join(p.read_text() for p in (ROOT / "tests" / "plugins").rglob("*.py"))
    assert f"def {hook}(" in sources, f"no test-only plugin implements {hook}, so nothing tests it"
