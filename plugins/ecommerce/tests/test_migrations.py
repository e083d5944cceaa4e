"""ecommerce's Alembic history: upgrade → downgrade → upgrade round trip, and the head matches the models."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from byway_ecommerce.models import metadata
from ecommerce_shop import open_shop
from sqlalchemy import Connection, inspect

from byway.migrate import alembic_config, version_table
from byway.settings import Settings


async def test_round_trip_and_no_diff_at_head(byway_settings: Settings, database_url: str) -> None:
    async with open_shop(byway_settings.with_overrides(database_url=database_url)) as shop:
        runtime = shop.runtime

        def tables(connection: Connection) -> set[str]:
            return set(inspect(connection).get_table_names()) - {version_table(runtime.name)}

        def downgrade(connection: Connection) -> set[str]:
            command.downgrade(alembic_config(runtime, connection), "base")
            return tables(connection)

        def upgrade(connection: Connection) -> set[str]:
            command.upgrade(alembic_config(runtime, connection), "head")
            return tables(connection)

        def diff(connection: Connection) -> list[Any]:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            found = compare_metadata(context, metadata)
            return [d for d in found if not (d[0] == "remove_table" and d[1].name == version_table(runtime.name))]

        expected = set(metadata.tables)
        async with runtime.db.engine.begin() as connection:
            assert await connection.run_sync(tables) == expected
            assert await connection.run_sync(diff) == []
        async with runtime.db.engine.begin() as connection:
            assert await connection.run_sync(downgrade) == set()  # every table dropped
        async with runtime.db.engine.begin() as connection:
            assert await connection.run_sync(upgrade) == expected
        async with runtime.db.engine.begin() as connection:
            assert await connection.run_sync(diff) == []
