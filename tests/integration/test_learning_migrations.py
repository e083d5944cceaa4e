"""The learning migrations go up, down and up again on SQLite and Postgres, and match the models.

teach-internal's ``b7c41e2f9a10`` (facets, lesson type/duration/video, unique positions, the
full-text index particular to each database) and students-internal's ``c52e8d1f4b07`` (lesson
progress and certificates). After a round trip the data written before is still searchable (the
FTS5 index is rebuilt from the table; the Postgres column is generated), and autogenerate finds
nothing to change (the hand-made full-text objects are excluded from the comparison).
"""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from byway import migrate
from byway.runtime import PluginRuntime
from byway.settings import Settings

from .conftest import open_world

TI, SI = "teach-internal", "students-internal"
BEFORE = {TI: "a0d5a186c3d1", SI: "a3381bf8206e"}
SEARCH = 'query { courses(search: "sourdough") { id } courseCount(search: "sourdough") }'


async def run(runtime: PluginRuntime, action: str, revision: str) -> None:
    def go(connection: Connection) -> None:
        getattr(command, action)(migrate.alembic_config(runtime, connection), revision)

    async with runtime.db.engine.begin() as conn:
        await conn.run_sync(go)


async def differences(runtime: PluginRuntime) -> list[Any]:
    def compare(connection: Connection) -> list[Any]:
        tables = set(runtime.metadata.tables) if runtime.metadata is not None else set()
        unmanaged = set(runtime.metadata.info.get("unmanaged", ())) if runtime.metadata is not None else set()

        def include_name(name: str | None, type_: str, _parents: Any) -> bool:
            if name in unmanaged:
                return False
            return name in tables if type_ == "table" else True

        context = MigrationContext.configure(
            connection, opts={"include_name": include_name, "compare_type": True, "target_metadata": runtime.metadata}
        )
        return list(compare_metadata(context, runtime.metadata))

    async with runtime.db.engine.connect() as conn:
        return await conn.run_sync(compare)


async def test_up_down_up_keeps_data_and_matches_the_models(byway_settings: Settings, database_url: str) -> None:
    async with open_world(byway_settings.with_overrides(database_url=database_url)) as world:
        teacher, _ = await world.teacher()
        course = await world.course(teacher)
        body = await world.gql(
            TI,
            'mutation($id: ID!) { updateCourse(id: $id, description: "Sourdough, slowly") { id } }',
            {"id": course},
            token=teacher.token,
        )
        assert not body.get("errors"), body
        assert (await world.gql(TI, SEARCH))["data"]["courseCount"] == 1
        host = world.app.host
        for name in (TI, SI):
            runtime = host.plugins[name]
            assert await differences(runtime) == [], name
            await run(runtime, "downgrade", BEFORE[name])
            assert await migrate.current_heads(runtime) == {BEFORE[name]}
            await run(runtime, "upgrade", "head")
            await run(runtime, "downgrade", BEFORE[name])
            await run(runtime, "upgrade", "head")
            assert await migrate.current_heads(runtime) == migrate.script_heads(runtime)
            assert await differences(runtime) == [], name
        data = (await world.gql(TI, SEARCH))["data"]
        assert data == {"courses": [{"id": course}], "courseCount": 1}
