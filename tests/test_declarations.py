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


async def _no_ids(plugin: object) -> list[str]:
    return []


EXISTS = "query CoursesExist($ids: [ID!]!) { coursesByIds(ids: $ids) { id } }"


def test_relation_audit_fields_default_to_none() -> None:
    relation = Relation("a.B.cId", "c.C")
    assert (relation.held_ids, relation.exists) == (None, None)
    assert Relation("a.B.cId", "c.C", held_ids=_no_ids, exists=EXISTS).exists == EXISTS


@pytest.mark.parametrize("given", [{"held_ids": _no_ids}, {"exists": EXISTS}])
def test_relation_audit_fields_go_together(given: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="declare held_ids and exists together"):
        Relation("a.B.cId", "c.C", **given)


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ("query {", "is not valid GraphQL"),
        ("mutation M($ids: [ID!]!) { coursesByIds(ids: $ids) { id } }", "exactly one query"),
        (EXISTS + " query Other($ids: [ID!]!) { x(ids: $ids) { id } }", "exactly one query"),
        ("query Q($ids: [ID!]) { coursesByIds(ids: $ids) { id } }", r"\$ids: \[ID!\]!"),
        ("query Q($ids: [ID!]!, $n: Int) { coursesByIds(ids: $ids) { id } }", r"\$ids: \[ID!\]!"),
        ("query Q($ids: [ID!]!) { a: coursesByIds(ids: $ids) { id } b: coursesByIds(ids: $ids) { id } }", "one root"),
    ],
)
def test_relation_exists_document_shape(document: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Relation("a.B.cId", "c.C", held_ids=_no_ids, exists=document)
