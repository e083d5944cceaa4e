"""The cross-plugin ID field ``shelf`` holds."""

import byway
from tests.plugins.shelf.models import items

#: Read by the tests: the distinct note ids on the shelf.
HELD_NOTE_IDS = byway.held_ids(items.c.note_id)

RELATIONS = [
    byway.Relation(
        source="shelf.Item.noteId",
        target="notes.Note",
        enforced_by=("shelf.shelve",),
    )
]
