"""Skips must be loud: a missing first-party plugin fails in CI instead of skipping its tests."""

from __future__ import annotations

import pytest

from byway.testing import plugins_required, require_plugin


def test_an_installed_plugin_module_is_returned() -> None:
    assert require_plugin("tests.plugins.notes").__name__ == "tests.plugins.notes"


@pytest.mark.parametrize(
    ("env", "outcome"), [({"CI": "true"}, "failed"), ({"BYWAY_TEST_PLUGINS": "required"}, "failed"), ({}, "skipped")]
)
def test_a_missing_plugin_fails_in_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], outcome: str
) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("BYWAY_TEST_PLUGINS", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert plugins_required() is (outcome == "failed")
    expected = pytest.fail.Exception if outcome == "failed" else pytest.skip.Exception
    with pytest.raises(expected, match="byway_no_such_plugin"):
        require_plugin("byway_no_such_plugin")
