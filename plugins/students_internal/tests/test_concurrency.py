"""Concurrent enrollments and registrations give one row and the same answer to everyone (SQLite and Postgres)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from byway_students_internal.models import enrollments, students
from sqlalchemy import func, select

from byway.settings import Settings

if TYPE_CHECKING:
    from conftest import World, WorldFactory

SI = "students-internal"
N = 20


async def counts(world: World) -> tuple[int, int]:
    async with world.app.host.plugins[SI].sessions() as session:
        n_students = await session.scalar(select(func.count()).select_from(students))
        n_enrollments = await session.scalar(select(func.count()).select_from(enrollments))
    return int(n_students or 0), int(n_enrollments or 0)


@pytest.mark.parametrize("registered", [False, True], ids=["new-student", "existing-student"])
async def test_simultaneous_enroll_me_gives_one_row(
    open_world: WorldFactory, byway_settings: Settings, database_url: str, registered: bool
) -> None:
    async with open_world(settings=byway_settings.with_overrides(database_url=database_url)) as world:
        course = await world.course()
        if registered:  # then the student upsert does not serialise the requests: the enrollment upsert must hold
            await world.student_id("student")
        token = world.token("student")
        query = "mutation($c: ID!) { enrollMe(courseId: $c) { id studentId courseId } }"
        bodies = await asyncio.gather(*(world.app.gql(SI, query, {"c": course}, token=token) for _ in range(N)))
        assert all(not b.get("errors") and b["_status"] == 200 for b in bodies), bodies
        results = {(b["data"]["enrollMe"]["id"], b["data"]["enrollMe"]["studentId"]) for b in bodies}
        assert len(results) == 1
        assert await counts(world) == (1, 1)


async def test_simultaneous_enroll_student_gives_one_row(
    open_world: WorldFactory, byway_settings: Settings, database_url: str
) -> None:
    async with open_world(settings=byway_settings.with_overrides(database_url=database_url)) as world:
        course = await world.course(price=4900)
        student = await world.student_id("student")
        token = world.token("service")
        query = "mutation($s: ID!, $c: ID!) { enrollStudent(studentId: $s, courseId: $c) { id } }"
        bodies = await asyncio.gather(
            *(world.app.gql(SI, query, {"s": student, "c": course}, token=token) for _ in range(N))
        )
        assert all(not b.get("errors") for b in bodies), bodies
        assert len({b["data"]["enrollStudent"]["id"] for b in bodies}) == 1
        assert await counts(world) == (1, 1)


async def test_simultaneous_registrations_give_one_201(
    open_world: WorldFactory, byway_settings: Settings, database_url: str
) -> None:
    async with open_world(settings=byway_settings.with_overrides(database_url=database_url)) as world:
        headers = {"Authorization": f"Bearer {world.token('service')}"}
        responses = await asyncio.gather(
            *(
                world.app.client.post("/api/students-internal/students", json={"userId": "u-rush"}, headers=headers)
                for _ in range(N)
            )
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] * (N - 1) + [201]
        assert len({r.json()["id"] for r in responses}) == 1
        assert await counts(world) == (1, 0)
