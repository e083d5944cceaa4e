"""``notes``: a test-only plugin with a database, migrations, REST routes, a job and a command.

Notes belong to the user who wrote them. ``secretCount`` is service-only, so tests can see what a
service caller may do that a user may not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from ariadne import MutationType, ObjectType, QueryType
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import byway
from byway.auth import require_service, require_user
from byway.cli import run_with_plugin
from byway.context import RequestContext
from byway.declarations import DemoStep, GraphQLApi, Job, PluginInfo
from byway.errors import BadUserInput, NotFound
from byway.runtime import PluginRuntime
from byway.web import read_json, rest_endpoint

metadata = MetaData()
notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("author_id", String(64), nullable=False, index=True),
    Column("text", String(500), nullable=False),
)

TYPE_DEFS = """
type Note { id: ID! authorId: String! text: String! }
type Query { note(id: ID!): Note  notes: [Note!]!  whoami: String!  caller: String!  secretCount: Int!  boom: String }
type Mutation { addNote(text: String!): Note! }
"""

query = QueryType()
mutation = MutationType()
note_type = ObjectType("Note")
JOB_RUNS: list[str] = []


def _note(row: Any) -> dict[str, Any]:
    return {"id": str(row.id), "authorId": row.author_id, "text": row.text}


@query.field("whoami")
def resolve_whoami(_: Any, info: Any) -> str:
    p = info.context.principal
    return p.kind if not p.user_id else f"user:{p.user_id}"


@query.field("caller")
def resolve_caller(_: Any, info: Any) -> str:
    p = info.context.principal
    if p.is_service:
        return f"service:{p.service}"
    return f"user:{p.user_id}" if p.is_user else "anonymous"


@query.field("note")
async def resolve_note(_: Any, info: Any, id: str) -> dict[str, Any] | None:
    ctx: RequestContext = info.context
    if not id.isdigit():
        raise NotFound(f"no note {id}")
    async with ctx.session() as session:
        row = (await session.execute(select(notes).where(notes.c.id == int(id)))).first()
    return _note(row) if row else None


@query.field("notes")
async def resolve_notes(_: Any, info: Any) -> list[dict[str, Any]]:
    ctx: RequestContext = info.context
    user = require_user(ctx.principal)
    async with ctx.session() as session:
        rows = (await session.execute(select(notes).where(notes.c.author_id == user.user_id))).all()
    return [_note(r) for r in rows]


@query.field("secretCount")
async def resolve_secret_count(_: Any, info: Any) -> int:
    ctx: RequestContext = info.context
    require_service(ctx.principal)
    async with ctx.session() as session:
        return int(await session.scalar(select(func.count()).select_from(notes)) or 0)


@query.field("boom")
def resolve_boom(_: Any, info: Any) -> str:
    raise RuntimeError("secret internal detail")


@mutation.field("addNote")
async def resolve_add_note(_: Any, info: Any, text: str) -> dict[str, Any]:
    ctx: RequestContext = info.context
    user = require_user(ctx.principal)
    if not text.strip():
        raise BadUserInput("text must not be empty", field="text")
    async with ctx.session() as session:
        row = (await session.execute(insert(notes).values(author_id=user.user_id, text=text).returning(*notes.c))).one()
        await session.commit()
    return _note(row)


@byway.hookimpl
def byway_register_plugin() -> PluginInfo:
    return PluginInfo(name="notes", description="test-only notes")


@byway.hookimpl
def byway_register_models() -> MetaData:
    return metadata


@byway.hookimpl
def byway_register_migrations() -> Path:
    return Path(__file__).parent / "migrations"


@byway.hookimpl
def byway_register_schema() -> GraphQLApi:
    return GraphQLApi(TYPE_DEFS, [query, mutation, note_type])


@byway.hookimpl
def byway_register_routes(plugin: PluginRuntime) -> list[Route]:
    @rest_endpoint
    async def count(request: Request) -> JSONResponse:
        principal = plugin.principal_for(request)
        body = await read_json(request, plugin.settings.max_body_bytes) if request.method == "POST" else {}
        async with plugin.sessions() as session:
            total = await session.scalar(select(func.count()).select_from(notes))
        return JSONResponse({"count": total, "caller": principal.kind, "echo": body})

    return [Route("/count", count, methods=["GET", "POST"])]


@byway.hookimpl
def byway_register_jobs(plugin: PluginRuntime) -> list[Job]:
    async def tick(runtime: PluginRuntime) -> None:
        JOB_RUNS.append(runtime.name)

    interval = float(plugin.config.get("tick_seconds", 0.05))
    return [Job("tick", interval, tick)]


@byway.hookimpl
def byway_register_demo() -> DemoStep:
    async def seed(plugin: PluginRuntime, facts: dict[str, Any]) -> list[str]:
        async with plugin.sessions() as session:
            exists = await session.scalar(select(notes.c.id).where(notes.c.author_id == "demo"))
            if exists is None:
                await session.execute(insert(notes).values(author_id="demo", text="hello from the demo"))
                await session.commit()
        facts["notes.author"] = "demo"
        return ["notes: one demo note by author 'demo'"]

    return DemoStep(order=10, run=seed)


@byway.hookimpl
def byway_register_commands(cli: click.Group) -> None:
    @cli.command("notes-count")
    def notes_count() -> None:
        """Print how many notes are stored."""

        async def run(plugin: PluginRuntime) -> None:
            async with plugin.sessions() as session:
                click.echo(f"notes: {await session.scalar(select(func.count()).select_from(notes))}")

        run_with_plugin("notes", run)
