"""Where the time of one in-process cross-plugin call goes, stage by stage, in real time.

    python bench/call_stages.py [--ids 50] [--calls 3000] [--postgres URL]

Runs ``enrollmentStatus`` for ``--ids`` course ids through teach-internal's cross-plugin client
(in-process) on the bench's data, with a clock around each layer (the client, the transport,
``run_operation``, the executor, graphql-core (``execute_lean``), the store function), and also times
the layers of the database access alone: the raw driver, SQLAlchemy on a held connection, a reader
(``plugin.reader()``) and a session. A profiler would triple the cost of Python-heavy code; clocks
around layers do not. Prints one JSON object (microseconds per call). See docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from bench_measure import interleaved
from bench_world import course_id
from run import ENROLLMENT_STATUS, STUDENT_USER, running_world
from sqlalchemy import create_engine

import byway.client
import byway.execution
import byway.runtime

SPENT: dict[str, int] = {}


def clocked(owner: Any, name: str, label: str) -> Callable[[], None]:
    """Wrap ``owner.name`` (a coroutine function) with a clock adding to ``SPENT[label]``; returns the undo."""
    original = getattr(owner, name)

    @functools.wraps(original)
    async def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter_ns()
        try:
            return await original(*args, **kwargs)
        finally:
            SPENT[label] = SPENT.get(label, 0) + time.perf_counter_ns() - start

    setattr(owner, name, timed)
    return lambda: setattr(owner, name, original)


async def stages(ids: int, calls: int, database_url: str) -> dict[str, Any]:
    from byway_students_internal import store

    async with running_world(database_url, live=False) as world:
        host = world.host
        client = host.plugins["teach-internal"].client
        students = host.plugins["students-internal"]
        principal = host.tokens.verify(world.student_token)
        course_ids = [course_id(n) for n in range(ids)]
        variables = {"courseIds": course_ids}

        async def call() -> None:
            await client.call("students-internal", ENROLLMENT_STATUS, variables, as_=principal)

        # The database layers, interleaved (raw driver, SQLAlchemy on a held connection, reader, session).
        params = {"user_id": STUDENT_USER, "course_ids": course_ids}
        prepared = store._ENROLLED_OF_USER
        statement = getattr(prepared, "statement", prepared)  # byway.Prepared: its SQLAlchemy statement
        db = students.db
        probes: dict[str, Callable[[], Awaitable[Any]]] = {}
        if db.is_sqlite:
            sync_engine = create_engine(db.url.set(drivername="sqlite"))
            held = sync_engine.connect()
            raw = held.connection.dbapi_connection
            assert raw is not None
            sql = str(statement.compile(sync_engine))
            raw_params = (STUDENT_USER, json.dumps(course_ids))

            async def raw_driver() -> None:
                raw.execute(sql, raw_params).fetchall()

            async def sqlalchemy_held() -> None:
                set(held.execute(statement, params).scalars())

        else:
            async_held = await db.engine.connect()
            await async_held.execution_options(isolation_level="AUTOCOMMIT")
            driver = (await async_held.get_raw_connection()).driver_connection
            sql = str(statement.compile(db.engine)).replace("%(user_id)s", "%s").replace("%(course_ids)s", "%s")

            async def raw_driver() -> None:
                cursor = await driver.execute(sql, (STUDENT_USER, course_ids))
                await cursor.fetchall()

            async def sqlalchemy_held() -> None:
                set((await async_held.execute(statement, params)).scalars())

        async def reader() -> None:
            async with students.reader() as r:
                await store.enrolled_course_ids_of_user(r, STUDENT_USER, course_ids)

        async def session() -> None:
            async with students.sessions() as s:
                await store.enrolled_course_ids_of_user(s, STUDENT_USER, course_ids)

        probes = {
            "raw_driver": raw_driver,
            "sqlalchemy_held_connection": sqlalchemy_held,
            "reader": reader,
            "session": session,
            "inprocess_call": call,
        }
        layers = await interleaved(probes, max(calls // 5, 100))
        if db.is_sqlite:
            held.close()
            sync_engine.dispose()
        else:
            await async_held.close()

        undo = [
            clocked(byway.client.CrossPluginClient, "call", "client"),
            clocked(byway.client.InProcessTransport, "send", "transport"),
            clocked(byway.runtime.PluginRuntime, "run_operation", "run_operation"),
            clocked(byway.execution.GraphQLExecutor, "run", "executor"),
            clocked(store, "enrolled_course_ids_of_user", "store"),
        ]
        original_execute = byway.execution.execute_lean

        def execute(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter_ns()
            result = original_execute(*args, **kwargs)
            SPENT["execute_sync"] = SPENT.get("execute_sync", 0) + time.perf_counter_ns() - start
            if not hasattr(result, "__await__"):
                return result

            async def awaited() -> Any:
                start = time.perf_counter_ns()
                try:
                    return await result
                finally:
                    SPENT["execute_awaited"] = SPENT.get("execute_awaited", 0) + time.perf_counter_ns() - start

            return awaited()

        byway.execution.execute_lean = execute  # type: ignore[assignment]
        try:
            for _ in range(200):
                await call()
            SPENT.clear()
            started = time.perf_counter_ns()
            for _ in range(calls):
                await call()
            total = (time.perf_counter_ns() - started) / calls / 1000
        finally:
            byway.execution.execute_lean = original_execute
            for restore in undo:
                restore()
    per = {label: SPENT[label] / calls / 1000 for label in SPENT}
    return {
        "benchmark": "call_stages",
        "database": "sqlite" if not database_url else "postgresql",
        "ids": ids,
        "calls": calls,
        "per_call_us": round(total, 1),
        "stages_us": {
            "client": round(per["client"] - per["transport"], 1),
            "transport": round(per["transport"] - per["run_operation"], 1),
            "run_operation": round(per["run_operation"] - per["executor"], 1),
            "executor_checks": round(per["executor"] - per["execute_sync"] - per["execute_awaited"], 1),
            "graphql_build_and_root_field": round(per["execute_sync"], 1),
            "reader_resolver_and_completion": round(per["execute_awaited"] - per["store"], 1),
            "store_function": round(per["store"], 1),
        },
        "database_layers_ms": layers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ids", type=int, default=50)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--postgres", default="", help="a PostgreSQL URL (databases are created and dropped)")
    args = parser.parse_args()
    database_url = ""
    prefix = ""
    if args.postgres:
        prefix = f"bench_stages_{uuid.uuid4().hex[:8]}_"
        database_url = args.postgres.rsplit("/", 1)[0] + f"/{prefix}{{plugin}}"
    try:
        report = asyncio.run(stages(args.ids, args.calls, database_url))
    finally:
        if prefix:
            from run import drop_databases

            asyncio.run(drop_databases(args.postgres, prefix))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
