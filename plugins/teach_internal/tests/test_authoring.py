"""Authoring: update, delete and reorder modules and lessons; facets; dense, stable positions."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest
from byway_teach_internal.models import lessons, modules
from sqlalchemy import select

from byway.settings import Settings

if TYPE_CHECKING:
    from conftest import World, WorldFactory

TI = "teach-internal"
OUTLINE = """
query($id: ID!) { course(id: $id) {
  modules { id title position lessons { id title position type duration content videoUrl preview } }
} }"""
UPDATE_LESSON = """
mutation($id: ID!, $t: String, $c: String, $p: Boolean, $ty: LessonType, $d: Int, $v: String) {
  updateLesson(id: $id, title: $t, content: $c, preview: $p, type: $ty, duration: $d, videoUrl: $v) {
    id title content preview type duration videoUrl position
  }
}"""
REORDER_LESSONS = "mutation($m: ID!, $ids: [ID!]!) { reorderLessons(moduleId: $m, ids: $ids) { id position } }"
REORDER_MODULES = "mutation($c: ID!, $ids: [ID!]!) { reorderModules(courseId: $c, ids: $ids) { id position } }"
CREATE_LESSON = """
mutation($m: ID!, $t: String!, $ty: LessonType, $d: Int, $v: String) {
  createLesson(moduleId: $m, title: $t, type: $ty, duration: $d, videoUrl: $v) { id position type duration }
}"""


async def outline(world: World, course_id: str) -> list[dict[str, Any]]:
    data = await world.ok(TI, OUTLINE, {"id": course_id}, as_="owner")
    modules_: list[dict[str, Any]] = data["course"]["modules"]
    return modules_


async def module_with_lessons(world: World, count: int) -> tuple[str, str, list[str]]:
    course = await world.create_course()
    module = await world.create_module(course["id"])
    ids = [(await world.create_lesson(module["id"], f"L{n}"))["id"] for n in range(count)]
    return course["id"], module["id"], ids


async def test_lessons_append_and_can_be_edited_field_by_field(world: World) -> None:
    course, module, _ = await module_with_lessons(world, 0)
    created = await world.ok(
        TI,
        CREATE_LESSON,
        {"m": module, "t": "Intro", "ty": "VIDEO", "d": 300, "v": "https://v.example/1.mp4"},
        as_="owner",
    )
    assert created["createLesson"] | {"id": None} == {"id": None, "position": 1, "type": "VIDEO", "duration": 300}
    lesson = created["createLesson"]["id"]
    second = await world.ok(TI, CREATE_LESSON, {"m": module, "t": "Next"}, as_="owner")
    assert (second["createLesson"]["position"], second["createLesson"]["type"]) == (2, "TEXT")

    edited = await world.ok(TI, UPDATE_LESSON, {"id": lesson, "t": " Intro, fixed ", "c": "Body"}, as_="owner")
    assert edited["updateLesson"] == {
        "id": lesson,
        "title": "Intro, fixed",
        "content": "Body",
        "preview": False,
        "type": "VIDEO",
        "duration": 300,
        "videoUrl": "https://v.example/1.mp4",
        "position": 1,
    }
    # explicit nulls clear what may be cleared; omitted arguments stay
    cleared = await world.ok(TI, UPDATE_LESSON, {"id": lesson, "d": None, "v": None, "ty": "QUIZ"}, as_="owner")
    assert {k: cleared["updateLesson"][k] for k in ("duration", "videoUrl", "type", "title")} == {
        "duration": None,
        "videoUrl": None,
        "type": "QUIZ",
        "title": "Intro, fixed",
    }
    renamed = 'mutation($id: ID!) { updateModule(id: $id, title: " Part one ") { id title position courseId } }'
    assert (await world.ok(TI, renamed, {"id": module}, as_="owner"))["updateModule"] == {
        "id": module,
        "title": "Part one",
        "position": 1,
        "courseId": course,
    }


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"v": "javascript:alert(1)"}, "videoUrl"),
        ({"v": "ftp://files.example/a.mp4"}, "videoUrl"),
        ({"v": "/relative/video.mp4"}, "videoUrl"),
        ({"v": "https://"}, "videoUrl"),
        ({"v": "https://x.example/" + "a" * 2000}, "videoUrl"),
        ({"d": -1}, "duration"),
        ({"d": 10**7}, "duration"),
        ({"t": "   "}, "title"),
        ({"c": "x" * 100_001}, "content"),
    ],
)
async def test_bad_lesson_input_is_refused_and_changes_nothing(
    world: World, variables: dict[str, Any], field: str
) -> None:
    course, _module, (lesson,) = await module_with_lessons(world, 1)
    before = await outline(world, course)
    error = await world.refused(TI, UPDATE_LESSON, {"id": lesson, **variables}, as_="owner")
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", field)
    assert await outline(world, course) == before


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ('coverUrl: "data:image/png;base64,AAAA"', "coverUrl"),
        ('coverUrl: "http//missing-colon.example"', "coverUrl"),
        (f'category: "{"c" * 61}"', "category"),
        ("difficulty: EXPERT", None),  # not an enum value: GraphQL validation refuses it
    ],
)
async def test_bad_course_facets_are_refused(world: World, arguments: str, field: str | None) -> None:
    course = await world.create_course()
    body = await world.gql(
        TI, f"mutation($id: ID!) {{ updateCourse(id: $id, {arguments}) {{ id }} }}", {"id": course["id"]}, as_="owner"
    )
    assert body["errors"], body
    if field is not None:
        assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    stored = await world.ok(
        TI, "query($id: ID!) { course(id: $id) { category difficulty coverUrl } }", {"id": course["id"]}, as_="owner"
    )
    assert stored["course"] == {"category": None, "difficulty": None, "coverUrl": None}


async def test_course_facets_are_cleaned_and_clearable(world: World) -> None:
    course = await world.create_course()
    query = """mutation($id: ID!, $c: String, $u: String) {
      updateCourse(id: $id, category: $c, difficulty: INTERMEDIATE, coverUrl: $u) { category difficulty coverUrl }
    }"""
    data = await world.ok(
        TI, query, {"id": course["id"], "c": "  Data   Science ", "u": "HTTPS://img.example/c.png"}, as_="owner"
    )
    assert data["updateCourse"] == {
        "category": "Data Science",
        "difficulty": "INTERMEDIATE",
        "coverUrl": "HTTPS://img.example/c.png",
    }
    clear = (
        "mutation($id: ID!) { updateCourse(id: $id, category: null, difficulty: null, coverUrl: null)"
        " { category difficulty coverUrl } }"
    )
    assert (await world.ok(TI, clear, {"id": course["id"]}, as_="owner"))["updateCourse"] == {
        "category": None,
        "difficulty": None,
        "coverUrl": None,
    }


async def test_deleting_closes_the_gap_and_reorder_takes_exactly_the_children(world: World) -> None:
    course, module, ids = await module_with_lessons(world, 4)
    delete = "mutation($id: ID!) { deleteLesson(id: $id) }"
    assert (await world.ok(TI, delete, {"id": ids[1]}, as_="owner"))["deleteLesson"] is True
    remaining = [ids[0], ids[2], ids[3]]
    assert [(x["id"], x["position"]) for x in (await outline(world, course))[0]["lessons"]] == [
        (lesson, n + 1) for n, lesson in enumerate(remaining)
    ]
    new_order = [ids[3], ids[0], ids[2]]
    data = await world.ok(TI, REORDER_LESSONS, {"m": module, "ids": new_order}, as_="owner")
    assert data["reorderLessons"] == [{"id": lesson, "position": n + 1} for n, lesson in enumerate(new_order)]
    for bad in (new_order[:2], [*new_order, ids[1]], [*new_order[:2], "foreign"], [new_order[0], *new_order[:2]]):
        error = await world.refused(TI, REORDER_LESSONS, {"m": module, "ids": bad}, as_="owner")
        assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "ids")
    assert [x["id"] for x in (await outline(world, course))[0]["lessons"]] == new_order
    # a lesson created now is appended after the others
    appended = (await world.create_lesson(module, "Last"))["position"]
    assert appended == 4


async def test_modules_reorder_and_delete_with_their_lessons(world: World) -> None:
    course = (await world.create_course())["id"]
    mods = [(await world.create_module(course, f"M{n}"))["id"] for n in range(3)]
    lesson = (await world.create_lesson(mods[1], "in the middle"))["id"]
    data = await world.ok(TI, REORDER_MODULES, {"c": course, "ids": [mods[2], mods[0], mods[1]]}, as_="owner")
    assert [m["id"] for m in data["reorderModules"]] == [mods[2], mods[0], mods[1]]
    error = await world.refused(TI, REORDER_MODULES, {"c": course, "ids": [mods[0], mods[1]]}, as_="owner")
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "ids")
    assert (await world.ok(TI, "mutation($id: ID!) { deleteModule(id: $id) }", {"id": mods[0]}, as_="admin")) == {
        "deleteModule": True
    }
    assert [(m["id"], m["position"]) for m in await outline(world, course)] == [(mods[2], 1), (mods[1], 2)]
    assert await world.ok(TI, "mutation($id: ID!) { deleteModule(id: $id) }", {"id": mods[1]}, as_="owner")
    assert [m["id"] for m in await outline(world, course)] == [mods[2]]
    async with world.app.host.plugins[TI].sessions() as session:
        assert (await session.execute(select(lessons.c.id).where(lessons.c.id == lesson))).first() is None


@pytest.mark.parametrize("who", ["anonymous", "student", "teacher", "admin", "service"])
async def test_only_the_owner_changes_the_outline(world: World, who: str) -> None:
    course, module, ids = await module_with_lessons(world, 2)
    before = await outline(world, course)
    attempts = [
        (UPDATE_LESSON, {"id": ids[0], "t": "Mine now"}),
        (REORDER_LESSONS, {"m": module, "ids": list(reversed(ids))}),
        (REORDER_MODULES, {"c": course, "ids": [module]}),
        ('mutation($id: ID!) { updateModule(id: $id, title: "x") { id } }', {"id": module}),
    ]
    expected = "UNAUTHENTICATED" if who == "anonymous" else "FORBIDDEN"
    for query, variables in attempts:
        assert (await world.refused(TI, query, variables, as_=who))["code"] == expected
    if who != "admin":
        for query in ("mutation($id: ID!) { deleteLesson(id: $id) }", "mutation($id: ID!) { deleteModule(id: $id) }"):
            target = ids[0] if "Lesson" in query else module
            assert (await world.refused(TI, query, {"id": target}, as_=who))["code"] == expected
    assert await outline(world, course) == before


async def test_unknown_ids_are_not_found(world: World) -> None:
    for query, variables in (
        (UPDATE_LESSON, {"id": "nope"}),
        ('mutation { deleteLesson(id: "nope") }', None),
        ('mutation { deleteModule(id: "nope") }', None),
        ('mutation { updateModule(id: "nope", title: "x") { id } }', None),
        (REORDER_LESSONS, {"m": "nope", "ids": []}),
        (REORDER_MODULES, {"c": "nope", "ids": []}),
    ):
        assert (await world.refused(TI, query, variables, as_="owner"))["code"] == "NOT_FOUND"


async def _positions(world: World, module: str) -> list[int]:
    async with world.app.host.plugins[TI].sessions() as session:
        stmt = select(lessons.c.position).where(lessons.c.module_id == module).order_by(lessons.c.position)
        return list((await session.execute(stmt)).scalars())


async def test_concurrent_reorders_and_appends_keep_positions_dense(
    open_world: WorldFactory, byway_settings: Settings, database_url: str
) -> None:
    async with open_world(settings=byway_settings.with_overrides(database_url=database_url)) as world:
        course, module, ids = await module_with_lessons(world, 6)
        orders = [ids[n:] + ids[:n] for n in range(6)] * 2

        async def reorder(order: list[str]) -> Any:
            return await world.gql(TI, REORDER_LESSONS, {"m": module, "ids": order}, as_="owner")

        bodies = await asyncio.gather(*(reorder(order) for order in orders))
        assert all(not body.get("errors") for body in bodies), [b for b in bodies if b.get("errors")]
        assert await _positions(world, module) == [1, 2, 3, 4, 5, 6]
        final = [x["id"] for x in (await outline(world, course))[0]["lessons"]]
        assert sorted(final) == sorted(ids) and final in orders

        # appends racing with reorders (which then see a 7th child: refused) and deletes
        results = await asyncio.gather(
            world.gql(TI, CREATE_LESSON, {"m": module, "t": "new"}, as_="owner"),
            world.gql(TI, "mutation($id: ID!) { deleteLesson(id: $id) }", {"id": ids[0]}, as_="owner"),
            *(reorder(order) for order in orders[:4]),
        )
        for body in results:
            assert not body.get("errors") or body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
        assert await _positions(world, module) == [1, 2, 3, 4, 5, 6]
        async with world.app.host.plugins[TI].sessions() as session:
            count = len((await session.execute(select(modules.c.id).where(modules.c.course_id == course))).all())
        assert count == 1
