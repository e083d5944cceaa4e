"""The benchmark's world: the real plugins, bulk data written straight into their databases, and a
bench-only plugin serving the "plain" JSON endpoint the GraphQL page is compared with.

Bulk data never goes through the API (a million enrollments would take hours): rows are written
with ``executemany`` on SQLite and ``COPY`` on PostgreSQL, into the tables the plugins' own
migrations created.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import make_url
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import byway
from byway.declarations import PluginInfo
from byway.host import Host
from byway.runtime import PluginRuntime

#: The measured student is synthetic (the host signs its token; no authentication row is needed);
#: the teacher is registered through the API, with a verified profile, so that ``teacher { … }``
#: asks authentication and teach for real.
TEACHER_USER = "bench-teacher"
STUDENT_USER = "bench-student"
#: A small vocabulary for course titles, so a one-word search matches a fixed share of courses.
WORDS = (
    "python rust algebra drawing guitar chess cooking finance marketing physics chemistry biology history "
    "poetry yoga running statistics databases networks security design photography writing spanish german"
).split()
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
PAGE_QUERY_FIELDS = "id title priceCents"


def core_plugins() -> list[Any]:
    """The first-party plugins plus the bench plugin, as the bench app loads them."""
    from byway_authentication import plugin as authentication
    from byway_ecommerce import plugin as ecommerce
    from byway_students_internal import plugin as students_internal
    from byway_teach import plugin as teach
    from byway_teach_internal import plugin as teach_internal

    return [authentication, teach, teach_internal, students_internal, ecommerce, BenchPlugin()]


# --- the plain endpoint ---------------------------------------------------------------------------


async def plain_courses(plugin: PluginRuntime, request: Request) -> Response:
    """``GET /api/bench/courses?first=20``: the page of ``courses(first: 20) { id title priceCents isEnrolled }``
    as plain JSON, computed with the same store functions (the same SQL) as the GraphQL resolvers,
    for the same caller (its token verified the same way), without GraphQL or a cross-plugin call.
    """
    from byway_students_internal import store as students_store
    from byway_teach_internal import store as teach_store

    principal = plugin.principal_for(request)
    first = int(request.query_params.get("first", "20"))
    host: Host = plugin.host  # bench-only code: it reads two plugins' databases on purpose
    # Read as the resolvers read (plugin.reader()).
    async with host.plugins["teach-internal"].reader() as db:
        page = await teach_store.catalog_page(db, teach_store.CatalogQuery(), first, None) or []
    enrolled: set[str] = set()
    if principal.is_user and page:
        ids = [course["id"] for course in page]
        async with host.plugins["students-internal"].reader() as db:
            enrolled = await enrolled_of_user(students_store, db, str(principal.user_id), ids)
    return JSONResponse(
        [
            {"id": c["id"], "title": c["title"], "priceCents": c["priceCents"], "isEnrolled": c["id"] in enrolled}
            for c in page
        ]
    )


async def enrolled_of_user(students_store: Any, session: Any, user_id: str, course_ids: Sequence[str]) -> set[str]:
    """Which of ``course_ids`` the user's student is enrolled in, exactly as ``enrollmentStatus`` asks it."""
    if hasattr(students_store, "enrolled_course_ids_of_user"):
        result: set[str] = await students_store.enrolled_course_ids_of_user(session, user_id, course_ids)
        return result
    student = await students_store.student_of_user(session, user_id)
    if student is None:
        return set()
    result = await students_store.enrolled_course_ids(session, student["id"], course_ids)
    return result


class BenchPlugin:
    """Only in the benchmark's app: the plain JSON twin of the GraphQL course page."""

    @byway.hookimpl
    def byway_register_plugin(self) -> PluginInfo:
        return PluginInfo(name="bench", description="Benchmark-only routes")

    @byway.hookimpl
    def byway_register_routes(self, plugin: PluginRuntime) -> list[Route]:
        async def endpoint(request: Request) -> Response:
            return await plain_courses(plugin, request)

        return [Route("/courses", endpoint, methods=["GET"])]


# --- bulk data ------------------------------------------------------------------------------------


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        # SQLAlchemy's SQLite DATETIME storage format (UTCDateTime stores naive UTC).
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    return value


def bulk_insert(runtime: PluginRuntime, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write ``rows`` into a plugin's table (SQLite ``executemany``, PostgreSQL ``COPY``); returns the count."""
    url = make_url(str(runtime.db.url))
    count = 0
    if runtime.db.is_sqlite:
        conn = sqlite3.connect(str(url.database), timeout=60)
        try:
            placeholders = ", ".join("?" for _ in columns)
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
            batch: list[tuple[Any, ...]] = []
            for row in rows:
                batch.append(tuple(_sqlite_value(v) for v in row))
                if len(batch) >= 50_000:
                    conn.executemany(sql, batch)
                    count += len(batch)
                    batch.clear()
            if batch:
                conn.executemany(sql, batch)
                count += len(batch)
            conn.commit()
            conn.execute("ANALYZE")
        finally:
            conn.close()
        return count
    import psycopg

    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn:
        with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        conn.commit()
        conn.execute(f"ANALYZE {table}")
    return count


def _id(prefix: str, n: int) -> str:
    return f"{prefix}{n:0{32 - len(prefix)}d}"


def course_id(n: int) -> str:
    """The id of the bench's n-th course (created in this order)."""
    return _id("c", n)


def course_rows(start: int, stop: int, teacher: str, *, paid_every: int = 4) -> Iterable[tuple[Any, ...]]:
    """Published courses ``start..stop-1`` of ``teacher``; one in ``paid_every`` costs money.

    Titles are two words of :data:`WORDS` and the number, so a one-word search matches a fixed share.
    """
    rng = random.Random(start)
    for n in range(start, stop):
        title = f"{WORDS[n % len(WORDS)].title()} {rng.choice(WORDS)} {n}"
        price = 1900 if n % paid_every == 1 else 0
        yield (course_id(n), teacher, title, "A course", price, "USD", True, EPOCH + timedelta(seconds=n))


COURSE_COLUMNS = ("id", "teacher_id", "title", "description", "price_cents", "currency", "published", "created_at")


def add_courses(host: Host, start: int, stop: int, teacher: str = TEACHER_USER) -> int:
    """Add published courses ``start..stop-1`` of ``teacher`` to teach-internal."""
    return bulk_insert(host.plugins["teach-internal"], "courses", COURSE_COLUMNS, course_rows(start, stop, teacher))


def add_modules(host: Host, course_numbers: Iterable[int], *, modules: int = 2, lessons: int = 2) -> None:
    """Give courses ``modules`` modules of ``lessons`` lessons (one preview each) for nested pages."""
    runtime = host.plugins["teach-internal"]
    module_rows: list[tuple[Any, ...]] = []
    lesson_rows: list[tuple[Any, ...]] = []
    for n in course_numbers:
        for m in range(modules):
            module_id = _id(f"m{m}x", n)
            module_rows.append((module_id, course_id(n), f"Module {m + 1}", m + 1))
            for k in range(lessons):
                lesson_rows.append(
                    (_id(f"l{m}x{k}x", n), module_id, f"Lesson {k + 1}", "Lesson text " * 20, k == 0, k + 1)
                )
    bulk_insert(runtime, "modules", ("id", "course_id", "title", "position"), module_rows)
    bulk_insert(runtime, "lessons", ("id", "module_id", "title", "content", "preview", "position"), lesson_rows)


def student_id(n: int) -> str:
    """The id of the bench's n-th student (0 is the measured student)."""
    return _id("s", n)


def add_students(host: Host, start: int, stop: int) -> None:
    """Students ``start..stop-1``; student 0 belongs to :data:`STUDENT_USER`."""
    rows = (
        (student_id(n), STUDENT_USER if n == 0 else f"bench-user-{n}", None, EPOCH + timedelta(seconds=n))
        for n in range(start, stop)
    )
    bulk_insert(host.plugins["students-internal"], "students", ("id", "user_id", "display_name", "created_at"), rows)


def add_enrollments(host: Host, pairs: Iterable[tuple[int, int]], first_id: int) -> int:
    """Enrollments of (student number, course number) pairs; ids numbered from ``first_id``."""
    rows = (
        (_id("e", first_id + i), student_id(s), course_id(c), EPOCH + timedelta(seconds=i))
        for i, (s, c) in enumerate(pairs)
    )
    return bulk_insert(
        host.plugins["students-internal"], "enrollments", ("id", "student_id", "course_id", "enrolled_at"), rows
    )


def filler_pairs(start_student: int, count: int, courses: int, per_student: int = 100) -> Iterable[tuple[int, int]]:
    """``count`` enrollments of filler students from ``start_student`` on, ``per_student`` each, all distinct."""
    made = 0
    s = start_student
    while made < count:
        offset = (s * 7919) % courses
        for k in range(min(per_student, count - made, courses)):
            yield s, (offset + k * 13) % courses
            made += 1
        s += 1
