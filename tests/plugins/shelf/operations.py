"""Documents ``shelf`` sends to ``notes``."""

import byway

NOTE = "query Note($id: ID!) { note(id: $id) { id authorId } }"

OPERATIONS = [byway.Operation(target="notes", document=NOTE)]
