"""Read statements built once, whose rows a reader fetches through the database driver directly.

``ENROLLED = byway.Prepared(select(enrollments.c.course_id).where(...))`` at module level, then
``await byway.scalars(db, ENROLLED, {"user_id": ..., "course_ids": [...]})`` in a store function.

Through SQLAlchemy, a one-statement read of 25 rows on SQLite spends about 60 µs of its 100 in
the execution context, the cursor result and a row object per row; the driver itself answers in
about 30. A reader (:meth:`byway.db.Reader.scalars`) compiles a :class:`Prepared` statement once
per dialect and runs it on the driver's connection itself: ``sqlite3`` on inline SQLite,
psycopg's ``AsyncConnection`` awaited on the event loop on PostgreSQL (a connection of the readers'
driver lane, :class:`byway.db._DriverLane`; list parameters in psycopg's binary format), with the
bind and result processors of its types applied as SQLAlchemy applies them, so the values are the
same. Elsewhere (a session, aiosqlite), and whenever SQLAlchemy must see the statement (``echo``, a
``before_cursor_execute``/``after_cursor_execute`` listener such as a statement counter, an error
to report, a lock to wait for, expanding ``IN`` parameters, a result column whose processor needs
the cursor's type code, as numerics on psycopg), it runs through SQLAlchemy like any statement
(``tests/test_prepared.py`` and ``tests/test_driver_lane.py`` check both give the same values).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import ARRAY, Dialect, Engine, Executable, Select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.compiler import SQLCompiler

#: The dialects whose DBAPI connection a reader hands to :meth:`Prepared.driver_scalars`.
_DRIVERS = {("sqlite", "pysqlite"), ("postgresql", "psycopg")}


class _DriverPlan(NamedTuple):
    """A statement compiled for a driver: its SQL, the compiled form (for the values of its
    parameters), whether they are positional, each parameter's name and bind processor, and the
    first column's result processor."""

    sql: str
    compiled: SQLCompiler
    positional: bool
    binds: Sequence[tuple[str, Callable[[Any], Any] | None]]
    first_column: Callable[[Any], Any] | None


#: Errors of a value that a type or the driver refuses: SQLAlchemy runs the statement and reports them.
_REFUSED = (LookupError, TypeError, ValueError)


class DriverCall(NamedTuple):
    """A :class:`Prepared` statement ready for the driver: its plan and its arguments."""

    plan: _DriverPlan
    arguments: Any

    def first_column(self, rows: Sequence[Sequence[Any]]) -> list[Any]:
        """The first column of ``rows``, through the column type's result processor."""
        process = self.plan.first_column
        if process is None:
            return [row[0] for row in rows]
        return [process(row[0]) for row in rows]

    async def scalars_async(self, cursor: Any, driver_error: type[Exception]) -> list[Any] | None:
        """The first column of every row, awaited on a cursor of an asynchronous driver connection
        (``psycopg.AsyncCursor``, kept with its connection) on the event loop itself: no greenlet,
        no pooled ``Connection``. None when the driver failed (``driver_error``) or refused a value
        (the caller tells a broken connection from a refused statement by the connection's state)."""
        try:
            await cursor.execute(self.plan.sql, self.arguments)
            rows = await cursor.fetchall()
        except (driver_error, *_REFUSED):
            return None
        return self.first_column(rows)


class Prepared:
    """A read statement built once (keep it a module constant), for :func:`scalars`."""

    __slots__ = ("_plans", "statement")

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._plans: dict[tuple[str, str], _DriverPlan | None] = {}

    def driver_scalars(self, engine: Engine, connection: Any, params: dict[str, Any] | None) -> list[Any] | None:
        """The first column of every row, fetched on ``connection`` (a DBAPI connection to
        ``engine``'s database); None when SQLAlchemy must run the statement (see the module
        docstring)."""
        call = self.driver_call(engine, params)
        if call is None:
            return None
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(call.plan.sql, call.arguments)
                rows = cursor.fetchall()
            finally:
                cursor.close()
        except (engine.dialect.loaded_dbapi.Error, *_REFUSED):
            # SQLAlchemy runs it again: a lock to wait for, or the error as SQLAlchemy reports it
            # (a value the driver refuses, a failing statement).
            return None
        return call.first_column(rows)

    def driver_call(self, engine: Engine, params: dict[str, Any] | None) -> DriverCall | None:
        """The statement for ``engine``'s driver with its arguments for ``params``; None when
        SQLAlchemy must run it (``echo``, a cursor listener, a plan it cannot make, a value it
        must refuse with its own error). Asked before a connection is taken for it."""
        if engine.echo or engine.dispatch.before_cursor_execute or engine.dispatch.after_cursor_execute:
            return None
        plan = self._plan(engine.dialect)
        if plan is None:
            return None
        try:
            values = plan.compiled.construct_params(params)
            arguments: Any
            if plan.positional:
                arguments = [values[name] if process is None else process(values[name]) for name, process in plan.binds]
            else:
                arguments = {
                    name: values[name] if process is None else process(values[name]) for name, process in plan.binds
                }
        except (SQLAlchemyError, *_REFUSED):
            return None  # a missing parameter, a value its type refuses: as SQLAlchemy reports it
        return DriverCall(plan, arguments)

    def _plan(self, dialect: Dialect) -> _DriverPlan | None:
        key = (dialect.name, dialect.driver)
        try:
            return self._plans[key]
        except KeyError:
            plan = self._plans[key] = _driver_plan(self.statement, dialect) if key in _DRIVERS else None
            return plan


def _driver_plan(statement: Select[Any], dialect: Dialect) -> _DriverPlan | None:
    """``statement`` compiled for ``dialect``'s driver; None when SQLAlchemy must run it."""
    compiled = statement.compile(dialect=dialect)
    # Expanding parameters (``IN`` with a list) are rendered per call: not for the driver.
    # Escaped names (a parameter named with spaces, dots...) are left to SQLAlchemy too.
    if not isinstance(compiled, SQLCompiler) or "POSTCOMPILE" in compiled.string or compiled.escaped_bind_names:
        return None
    by_name = {name: bind for bind, name in compiled.bind_names.items()}
    positional = compiled.positiontup is not None
    names = list(compiled.positiontup or ()) if positional else list(by_name)
    if not all(name in by_name for name in names):
        return None
    types = [by_name[name].type.dialect_impl(dialect) for name in names]
    binds = [(name, type_.bind_processor(dialect)) for name, type_ in zip(names, types, strict=True)]
    try:
        # Some result processors need the column's type code from the cursor (numerics on
        # psycopg): those statements are left to SQLAlchemy.
        first_column = statement.selected_columns[0].type.dialect_impl(dialect).result_processor(dialect, None)
    except (SQLAlchemyError, TypeError, ValueError):
        return None
    sql = compiled.string
    if dialect.name == "postgresql" and not positional:
        # Arrays in psycopg's binary format: its text format quotes every element after a
        # regular-expression test (~110 µs of CPU of a 500 µs read of 50 ids, measured here).
        for name, type_ in zip(names, types, strict=True):
            if isinstance(getattr(type_, "impl_instance", type_), ARRAY):
                sql = sql.replace(f"%({name})s", f"%({name})b")
    return _DriverPlan(sql, compiled, positional, binds, first_column)


def statement_of(statement: Prepared | Executable) -> Executable:
    """What SQLAlchemy runs for ``statement``: a :class:`Prepared` one's statement, else itself."""
    return statement.statement if isinstance(statement, Prepared) else statement


async def scalars(db: Any, statement: Prepared | Any, params: dict[str, Any] | None = None) -> list[Any]:
    """The first column of every row of ``statement`` (a :class:`Prepared` or any statement) on
    ``db``, a session or a :class:`~byway.db.Reader` (:data:`~byway.db.Readable`)."""
    from byway.db import Reader

    if isinstance(db, Reader):
        return await db.scalars(statement, params)
    return list((await db.execute(statement_of(statement), params)).scalars().all())
