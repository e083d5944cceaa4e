"""``reviews``: a test-only third-party plugin whose rows reference teach-internal's courses and lessons.

It declares two relations with their columns, and gets teach-internal's deletes applied to its own
database by the host (``byway.cascade``) with nothing more:

* ``reviews.Review.courseId`` -> ``teach-internal.Course``: **cascade** (a course's reviews go with it);
* ``reviews.Review.lessonId`` -> ``teach-internal.Lesson``: **set-null** (a review outlives the
  lesson it mentioned).

``addReview`` trusts its input (a test plugin); ``reviews(courseId)`` lists what is stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ariadne import MutationType, QueryType
from sqlalchemy import Column, MetaData, String, Table, insert, select

import byway
from byway.context import RequestContext
from byway.db import new_id
from byway.declarations import GraphQLApi, PluginInfo, Relation

metadata = MetaData()
reviews = Table(
    "reviews",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("course_id", String(64), nullable=False, index=True),
    Column("lesson_id", String(64), nullable=True, index=True),
    Column("text", String(500), nullable=False),
)

TYPE_DEFS = """
type Review { id: ID! courseId: ID! lessonId: ID text: String! }
type Query { reviews(courseId: ID!): [Review!]! }
type Mutation { addReview(courseId: ID!, lessonId: ID, text: String!): Review! }
"""

query = QueryType()
mutation = MutationType()


def _review(row: Any) -> dict[str, Any]:
    return {"id": row.id, "courseId": row.course_id, "lessonId": row.lesson_id, "text": row.text}


@query.field("reviews")
async def resolve_reviews(_: Any, info: Any, courseId: str) -> list[dict[str, Any]]:
    ctx: RequestContext = info.context
    async with ctx.session() as session:
        rows = (await session.execute(select(reviews).where(reviews.c.course_id == courseId))).all()
    return [_review(row) for row in rows]


@mutation.field("addReview")
async def resolve_add_review(_: Any, info: Any, courseId: str, text: str, lessonId: str | None = None) -> Any:
    ctx: RequestContext = info.context
    async with ctx.session() as session:
        stmt = insert(reviews).values(id=new_id(), course_id=courseId, lesson_id=lessonId, text=text)
        row = (await session.execute(stmt.returning(*reviews.c))).one()
        await session.commit()
    return _review(row)


@byway.hookimpl
def byway_register_plugin() -> PluginInfo:
    return PluginInfo(name="reviews", description="test-only: course reviews")


@byway.hookimpl
def byway_register_models() -> MetaData:
    return metadata


@byway.hookimpl
def byway_register_migrations() -> Path:
    return Path(__file__).parent / "migrations"


@byway.hookimpl
def byway_register_schema() -> GraphQLApi:
    return GraphQLApi(TYPE_DEFS, [query, mutation])


@byway.hookimpl
def byway_register_relations() -> list[Relation]:
    return [
        Relation(
            "reviews.Review.courseId",
            "teach-internal.Course",
            on_delete="cascade: a course's reviews go with it",
            column=reviews.c.course_id,
        ),
        Relation(
            "reviews.Review.lessonId",
            "teach-internal.Lesson",
            on_delete="set-null: the review stays, without its lesson",
            column=reviews.c.lesson_id,
        ),
    ]
