"""The published catalogue: filters, categories and full-text search in the database's own engine.

Search never passes user text to the engine as syntax. The text is cut into words (Unicode word
characters); on SQLite each word becomes a quoted FTS5 string (``"word"``, quotes doubled), on
Postgres the words go through ``plainto_tsquery``, so quotes, ``*``, ``NEAR``, ``-``, parentheses
or SQL-looking text are only ever words. All words must match (AND). Results are ranked by
relevance (FTS5 ``bm25``, Postgres ``ts_rank_cd``; the title weighs more than the description)
with the course id as a stable tie-break, and paginated with keyset ``after`` = the last id seen.
Only the newest :data:`SEARCH_WINDOW` matches are ranked (every match of a search with fewer),
so a page of a common word costs the same in a catalogue of any size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, column, func, literal_column, or_, select, table, tuple_

import byway
from byway_teach_internal.models import courses
from byway_teach_internal.store.courses import Record, course_record

#: Words of a search beyond this many are ignored; so are words longer than WORD_MAX (no real word is).
TERMS_MAX = 16
WORD_MAX = 64
_WORD = re.compile(r"\w+")

_FTS = table("courses_fts", column("rowid"))
_ROWID: Any = literal_column("courses.rowid")
_VECTOR: Any = literal_column("courses.search_vector")


def search_terms(text: str) -> list[str]:
    """The words of a search text (lower-cased, at most ``TERMS_MAX``, each at most ``WORD_MAX`` long)."""
    terms: list[str] = []
    for match in _WORD.finditer(text):
        word = match.group().lower()
        if len(word) <= WORD_MAX:
            terms.append(word)
            if len(terms) == TERMS_MAX:
                break
    return terms


@dataclass(frozen=True)
class CatalogQuery:
    """What a catalogue request asks for; ``terms`` is None without a search."""

    terms: tuple[str, ...] | None = None
    category: str | None = None
    difficulty: str | None = None
    free: bool | None = None

    def conditions(self) -> list[Any]:
        """The SQL conditions of the filters (published courses only)."""
        found: list[Any] = [courses.c.published.is_(True)]
        if self.category is not None:
            found.append(func.lower(courses.c.category) == self.category.lower())
        if self.difficulty is not None:
            found.append(courses.c.difficulty == self.difficulty)
        if self.free is not None:
            found.append(courses.c.price_cents == 0 if self.free else courses.c.price_cents > 0)
        return found


#: A search ranks at most this many matching courses: the newest ones. Scoring relevance costs
#: work per match, so without a bound a common word in a big catalogue (one course in 12 of
#: 100,000) would score thousands of rows for every page; with it a page costs about the same
#: at any size (docs/performance.md). A search with fewer matches is ranked whole; counts
#: (``courseCount``) are never bounded.
SEARCH_WINDOW = 500


def _fts_match(terms: tuple[str, ...]) -> Any:
    """``courses_fts MATCH '"word" "word"'``: every term as a quoted FTS5 string (never syntax)."""
    match = " ".join('"' + term.replace('"', '""') + '"' for term in terms)
    return literal_column("courses_fts").op("MATCH")(match)


def _matching(session: byway.Readable, terms: tuple[str, ...]) -> Any:
    """A subquery ``(id)`` of every course matching every term (no ranking, no bound)."""
    if session.get_bind().dialect.name == "postgresql":
        tsquery = func.plainto_tsquery("english", " ".join(terms))
        return select(courses.c.id.label("id")).where(_VECTOR.op("@@")(tsquery)).subquery("matching")
    return (
        select(courses.c.id.label("id"))
        .select_from(courses.join(_FTS, _FTS.c.rowid == _ROWID))
        .where(_fts_match(terms))
        .subquery("matching")
    )


def _scored(session: byway.Readable, terms: tuple[str, ...]) -> tuple[Any, list[Any], Any]:
    """``(from clause, conditions, rank)`` selecting the newest :data:`SEARCH_WINDOW` courses that
    match every term, and their relevance (lower is more relevant)."""
    if session.get_bind().dialect.name == "postgresql":
        tsquery = func.plainto_tsquery("english", " ".join(terms))
        window = (
            select(courses.c.id)
            .where(_VECTOR.op("@@")(tsquery))
            .order_by(courses.c.created_at.desc(), courses.c.id.desc())
            .limit(SEARCH_WINDOW)
        )
        return courses, [courses.c.id.in_(window)], -func.ts_rank_cd(_VECTOR, tsquery)
    # FTS5 walks a term's matches by rowid (insertion order) without scoring them: the lowest
    # rowid of the newest SEARCH_WINDOW matches bounds the rows bm25 scores.
    newest = (
        select(_FTS.c.rowid.label("rowid"))
        .where(_fts_match(terms))
        .order_by(_FTS.c.rowid.desc())
        .limit(SEARCH_WINDOW)
        .subquery("newest")
    )
    lowest = select(func.min(newest.c.rowid)).scalar_subquery()
    conditions = [_fts_match(terms), _FTS.c.rowid >= func.coalesce(lowest, 0)]
    return courses.join(_FTS, _FTS.c.rowid == _ROWID), conditions, literal_column("bm25(courses_fts, 4.0, 1.0)")


def _ranked(session: byway.Readable, terms: tuple[str, ...]) -> Any:
    """A subquery ``(id, rank)`` of :func:`_scored`'s courses (for a page after a cursor)."""
    from_, conditions, rank = _scored(session, terms)
    return select(courses.c.id.label("id"), rank.label("rank")).select_from(from_).where(*conditions).subquery("ranked")


async def catalog_page(
    session: byway.Readable, query: CatalogQuery, first: int, after: str | None
) -> list[Record] | None:
    """Up to ``first`` courses after course ``after``; None when ``after`` is not a course of this listing.

    Without search: oldest first, (createdAt, id). With search: by relevance, then id.
    """
    if query.terms is not None and not query.terms:
        return []
    if query.terms is None:
        stmt = select(*courses.c).where(*query.conditions())
        if after is not None:
            cursor = (await session.execute(select(courses.c.created_at).where(courses.c.id == after))).first()
            if cursor is None:
                return None
            # A row-value comparison: the index (published, created_at, id) seeks straight to the
            # cursor, where the equivalent OR scanned every earlier course (O(n) deep pages).
            stmt = stmt.where(tuple_(courses.c.created_at, courses.c.id) > tuple_(cursor.created_at, after))
        stmt = stmt.order_by(courses.c.created_at, courses.c.id).limit(first)
        return [course_record(row) for row in (await session.execute(stmt)).all()]
    if after is None:  # the first page: scored and filtered in one pass
        from_, conditions, rank = _scored(session, query.terms)
        stmt = (
            select(*courses.c)
            .select_from(from_)
            .where(*conditions, *query.conditions())
            .order_by(rank, courses.c.id)
            .limit(first)
        )
        return [course_record(row) for row in (await session.execute(stmt)).all()]
    ranked = _ranked(session, query.terms)
    if (await session.execute(select(ranked.c.id).where(ranked.c.id == after))).first() is None:
        return None
    # The cursor's rank is compared in SQL: a float never makes a round trip through Python.
    rank = select(ranked.c.rank).where(ranked.c.id == after).scalar_subquery()
    stmt = (
        select(*courses.c)
        .join(ranked, ranked.c.id == courses.c.id)
        .where(*query.conditions(), or_(ranked.c.rank > rank, and_(ranked.c.rank == rank, ranked.c.id > after)))
        .order_by(ranked.c.rank, ranked.c.id)
        .limit(first)
    )
    return [course_record(row) for row in (await session.execute(stmt)).all()]


async def catalog_count(session: byway.Readable, query: CatalogQuery) -> int:
    """How many published courses match the filters and the search."""
    if query.terms is not None and not query.terms:
        return 0
    stmt = select(func.count()).select_from(courses)
    if query.terms is not None:
        matching = _matching(session, query.terms)
        stmt = stmt.join(matching, matching.c.id == courses.c.id)
    return int(await session.scalar(stmt.where(*query.conditions())) or 0)


async def category_counts(session: byway.Readable) -> list[Record]:
    """Each category of the published courses (case-insensitively one) with its course count, by name."""
    key = func.lower(courses.c.category)
    stmt = (
        select(func.min(courses.c.category).label("name"), func.count().label("n"))
        .where(courses.c.published.is_(True), courses.c.category.is_not(None))
        .group_by(key)
        .order_by(key)
    )
    return [{"name": row.name, "courseCount": int(row.n)} for row in (await session.execute(stmt)).all()]
