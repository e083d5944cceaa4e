"""byway.cascade and Relation's on-delete declarations: validation, the host's fields, mermaid output."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Column, MetaData, String, Table

import byway
import tests.plugins.notes as notes
from byway import cascade, relations
from byway.cli import build_cli
from byway.declarations import GraphQLApi, PluginInfo, Relation
from byway.host import Host
from byway.settings import Settings

metadata = MetaData()
pins = Table(
    "pins",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("note_id", String(64), nullable=False),
    Column("maybe_note_id", String(64), nullable=True),
)


@pytest.mark.parametrize(
    ("on_delete", "policy"),
    [("restrict", "restrict"), ("cascade: the pins go", "cascade"), ("Set-Null, kept", "set-null"), ("", "restrict")],
)
def test_the_policy_is_the_first_word(on_delete: str, policy: str) -> None:
    assert Relation("holder.Pin.noteId", "notes.Note", on_delete=on_delete).policy == policy


def test_declarations_that_cannot_be_applied_are_refused() -> None:
    with pytest.raises(ValueError, match="on_delete must start with one of"):
        Relation("holder.Pin.noteId", "notes.Note", on_delete="delete them", column=pins.c.note_id)
    with pytest.raises(ValueError, match="set-null needs a nullable column"):
        Relation("holder.Pin.noteId", "notes.Note", on_delete="set-null", column=pins.c.note_id)
    with pytest.raises(ValueError, match="where needs a column"):
        Relation("holder.Pin.noteId", "notes.Note", where=pins.c.id == "x")
    relation = Relation("holder.Pin.maybeNoteId", "notes.Note", on_delete="set-null", column=pins.c.maybe_note_id)
    assert (relation.policy, relation.target_type) == ("set-null", "Note")


def test_the_host_fields_extend_a_schema_with_or_without_a_mutation_type() -> None:
    relation = Relation("holder.Pin.noteId", "notes.Note", on_delete="cascade", column=pins.c.note_id)
    documentation_only = Relation("holder.Pin.other", "notes.Note", on_delete="cascade")
    assert cascade.extend_api(None, GraphQLApi("type Query { a: Int }"), [documentation_only]) == GraphQLApi(  # type: ignore[arg-type]
        "type Query { a: Int }"
    )
    for type_defs in ("type Query { a: Int }", ["type Query { a: Int }", "type Mutation { b: Int }"]):
        api = cascade.extend_api(None, GraphQLApi(type_defs), [relation])  # type: ignore[arg-type]
        assert api is not None
        sdl = "\n".join([api.type_defs] if isinstance(api.type_defs, str) else api.type_defs)
        assert "bywayRelationCount(relation: String!, ids: [ID!]!): Int!" in sdl
        assert "bywayRelationApply(relation: String!, ids: [ID!]!): Int!" in sdl
        assert ("extend type Mutation" in sdl) == ("type Mutation { b" in sdl)
    api = cascade.extend_api(None, None, [relation])  # type: ignore[arg-type]
    assert api is not None and "type Query {" in api.type_defs[0]


class Holder:
    """A plugin holding notes' ids with a cascade relation (documentation only: no column)."""

    @byway.hookimpl
    def byway_register_plugin(self) -> PluginInfo:
        return PluginInfo(name="holder")

    @byway.hookimpl
    def byway_register_relations(self) -> list[Relation]:
        return [
            Relation("holder.Pin.noteId", "notes.Note", on_delete="cascade"),
            Relation("holder.Pin.authorId", "notes.Author", on_delete="restrict", optional=True),
        ]


def test_mermaid_draws_one_box_per_plugin_and_one_arrow_per_relation(settings: Settings) -> None:
    host = Host(settings, [notes, Holder()], load_entrypoints=False)
    result = CliRunner().invoke(build_cli(host), ["relations", "--format", "mermaid"], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.output == relations.mermaid(host.relations)
    assert result.output.splitlines() == [
        "flowchart LR",
        '  subgraph holder["holder"]',
        '    holder_Pin["Pin"]',
        "  end",
        '  subgraph notes["notes"]',
        '    notes_Author["Author"]',
        '    notes_Note["Note"]',
        "  end",
        '  holder_Pin -- "noteId: cascade" --> notes_Note',
        '  holder_Pin -- "authorId: restrict" --> notes_Author',
    ]


def test_mermaid_marks_the_relations_the_host_applies() -> None:
    relation = Relation("teach-internal.Lesson.x", "a-b.C", on_delete="cascade", column=pins.c.note_id)
    lines: list[Any] = relations.mermaid([relation]).splitlines()
    assert lines[-1] == '  teach_internal_Lesson -- "x: cascade, applied" --> a_b_C'
