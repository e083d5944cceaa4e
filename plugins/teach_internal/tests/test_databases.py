"""The whole course lifecycle on each database (SQLite and PostgreSQL): locks, joins, keyset paging, deletes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from byway.settings import Settings

if TYPE_CHECKING:
    from conftest import WorldFactory

TI = "teach-internal"


async def test_course_lifecycle(open_world: WorldFactory, byway_settings: Settings, database_url: str) -> None:
    async with open_world(settings=byway_settings.with_overrides(database_url=database_url)) as world:
        ids = [await world.course_with_lessons(price=price) for price in (0, 4900, 0)]
        second_module = await world.create_module(ids[0]["course"], "Second")
        assert second_module["position"] == 2
        page1 = (await world.ok(TI, "{ courses(first: 2) { id } }"))["courses"]
        page2 = await world.ok(TI, "query($a: ID) { courses(first: 2, after: $a) { id } }", {"a": page1[-1]["id"]})
        assert [c["id"] for c in page1 + page2["courses"]] == [i["course"] for i in ids]
        await world.enroll("student", ids[1]["course"])
        query = "{ courses { isEnrolled modules { position lessons { position content } } } }"
        courses = (await world.ok(TI, query, as_="student"))["courses"]
        assert [c["isEnrolled"] for c in courses] == [False, True, False]
        assert [lesson["content"] for lesson in courses[1]["modules"][0]["lessons"]] == ["free sample", "secret"]
        assert [m["position"] for m in courses[0]["modules"]] == [1, 2]
        delete = "mutation($id: ID!) { deleteCourse(id: $id) }"
        error = await world.refused(TI, delete, {"id": ids[1]["course"]}, as_="owner")
        assert (error["code"], error["references"][0]["count"]) == ("CONFLICT", 1)
        assert (await world.ok(TI, delete, {"id": ids[0]["course"]}, as_="admin"))["deleteCourse"] is True
        remaining = (await world.ok(TI, "{ courses { id } }"))["courses"]
        assert [c["id"] for c in remaining] == [ids[1]["course"], ids[2]["course"]]
