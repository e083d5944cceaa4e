"""Read statements built once, whose rows a reader on inline SQLite fetches through the driver.

``ENROLLED = byway.Prepared(select(enrollments.c.course_id).where(...))`` at module level, then
``await byway.scalars(db, ENROLLED, {"user_id": ..., "course_ids": [...]})`` in a store function.

Through SQLAlchemy, a one-statement read of 25 rows on SQLite spends about 60 µs of its 100 in
the execution context, the cursor result and a row object per row; the driver itself answers in
about 30. On a reader of an inline SQLite database (:meth:`byway.db.Reader.scalars`) a
:class:`Prepared` statement is compiled once and run on the ``sqlite3`` connection directly, with
the bind and result processors of its types applied as SQLAlchemy applies them, so the values are
the same. Anywhere else (a session, PostgreSQL, aiosqlite), and whenever SQLAlchemy must see the
statement (``echo``, a ``before_cursor_execute``/``after_cursor_execute`` listener such as a
statement counter, an error to report, a lock to wait for), it runs through SQLAlchemy like any
statement (``tests/test_prepared.py`` checks both give the same values).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Dialect, Engine, Select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.compiler import SQLCompiler


class _DriverPlan(NamedTuple):
    """A statement compiled for the SQLite driver: its SQL, the compiled form (for the values of
    its parameters), each positional parameter's name and bind processor, and the first column's
    result processor."""

    sql: str
    compiled: SQLCompiler
    binds: Sequence[tuple[str, Callable[[Any], Any] | None]]
    first_column: Callable[[Any], Any] | None


class Prepared:
    """A read statement built once (keep it a module constant), for :func:`scalars`."""

    __slots__ = ("_plans", "statement")

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._plans: dict[str, _DriverPlan | None] = {}

    def driver_scalars(
        self, engine: Engine, connection: sqlite3.Connection, params: dict[str, Any] | None
    ) -> list[Any] | None:
        """The first column of every row, fetched on ``connection`` (``engine``'s database, a
        SQLite driver connection); None when SQLAlchemy must run the statement (see the module
        docstring)."""
        if engine.echo or engine.dispatch.before_cursor_execute or engine.dispatch.after_cursor_execute:
            return None
        plan = self._plan(engine.dialect)
        if plan is None:
            return None
        try:
            values = plan.compiled.construct_params(params)
            arguments = [values[name] if process is None else process(values[name]) for name, process in plan.binds]
            rows = connection.execute(plan.sql, arguments).fetchall()
        except (sqlite3.Error, SQLAlchemyError, LookupError, TypeError, ValueError):
            # SQLAlchemy runs it again: a lock to wait for, or the error as SQLAlchemy reports it
            # (a missing parameter, a value its type refuses, a failing statement).
            return None
        process = plan.first_column
        if process is None:
            return [row[0] for row in rows]
        return [process(row[0]) for row in rows]

    def _plan(self, dialect: Dialect) -> _DriverPlan | None:
        try:
            return self._plans[dialect.name]
        except KeyError:
            pass
        plan: _DriverPlan | None = None
        if dialect.name == "sqlite":
            compiled = self.statement.compile(dialect=dialect)
            names = compiled.positiontup
            # Expanding parameters (``IN`` with a list) are rendered per call: not for the driver.
            if isinstance(compiled, SQLCompiler) and names is not None and "POSTCOMPILE" not in compiled.string:
                types = [compiled.binds[name].type.dialect_impl(dialect) for name in names]
                binds = [(name, type_.bind_processor(dialect)) for name, type_ in zip(names, types, strict=True)]
                first = self.statement.selected_columns[0].type.dialect_impl(dialect)
                plan = _DriverPlan(compiled.string, compiled, binds, first.result_processor(dialect, None))
        self._plans[dialect.name] = plan
        return plan


async def scalars(db: Any, statement: Prepared | Any, params: dict[str, Any] | None = None) -> list[Any]:
    """The first column of every row of ``statement`` (a :class:`Prepared` or any statement) on
    ``db``, a session or a :class:`~byway.db.Reader` (:data:`~byway.db.Readable`)."""
    from byway.db import Reader

    if isinstance(db, Reader):
        return await db.scalars(statement, params)
    plain = statement.statement if isinstance(statement, Prepared) else statement
    return list((await db.execute(plain, params)).scalars().all())
