"""The data plugins return from their hooks."""

from __future__ import annotations

import pytest

from byway.declarations import PluginInfo, Relation


@pytest.mark.parametrize("name", ["notes", "teach-internal", "a1", "students-internal-v2"])
def test_valid_plugin_names(name: str) -> None:
    assert PluginInfo(name=name).name == name


@pytest.mark.parametrize("name", ["", "Notes", "teach_internal", "-x", "x-", "a--b", "1abc", "a b", "api/x"])
def test_invalid_plugin_names(name: str) -> None:
    with pytest.raises(ValueError, match="invalid plugin name"):
        PluginInfo(name=name)


def test_relation_plugins() -> None:
    relation = Relation("students-internal.Enrollment.courseId", "teach-internal.Course")
    assert relation.source_plugin == "students-internal"
    assert relation.target_plugin == "teach-internal"
    assert (relation.on_write, relation.on_delete, relation.optional) == ("must exist", "restrict", False)
