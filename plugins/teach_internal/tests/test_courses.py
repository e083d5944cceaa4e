"""Courses, modules and lessons: creation, validation, updates, listing and pagination."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from byway_teach_internal.models import lessons, modules
from sqlalchemy import func, select

if TYPE_CHECKING:
    from conftest import World

TI = "teach-internal"
CREATE = """
mutation($title: String!, $price: Int!, $description: String, $currency: String) {
  createCourse(title: $title, priceCents: $price, description: $description, currency: $currency) {
    id teacherId title description priceCents currency published createdAt isEnrolled modules { id }
  }
}
"""
UPDATE = """
mutation($id: ID!, $title: String, $description: String, $price: Int, $published: Boolean, $currency: String) {
  updateCourse(id: $id, title: $title, description: $description, priceCents: $price, published: $published,
               currency: $currency) {
    id title description priceCents currency published
  }
}
"""
COURSES = "query($first: Int, $after: ID) { courses(first: $first, after: $after) { id } }"


async def test_create_course_belongs_to_the_caller_and_starts_unpublished(world: World) -> None:
    data = await world.ok(TI, CREATE, {"title": "  Intro to SQL  ", "price": 1999}, as_="owner")
    course = data["createCourse"]
    assert course["teacherId"] == world.user_id("owner")
    assert course["title"] == "Intro to SQL"
    assert (course["priceCents"], course["currency"], course["published"]) == (1999, "USD", False)
    assert course["description"] is None and course["modules"] == [] and course["isEnrolled"] is False
    assert datetime.fromisoformat(course["createdAt"]).tzinfo == UTC
    assert len(course["id"]) == 32


async def test_create_course_normalises_currency(world: World) -> None:
    data = await world.ok(TI, CREATE, {"title": "A", "price": 0, "currency": " eur "}, as_="owner")
    assert data["createCourse"]["currency"] == "EUR"


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"description": "d" * 10_001}, "description"),
        ({"price": -1}, "priceCents"),
        ({"currency": "US"}, "currency"),
        ({"currency": "USDD"}, "currency"),
        ({"currency": "U$D"}, "currency"),
        ({"currency": ""}, "currency"),
    ],
)
async def test_create_course_rejects_bad_input(world: World, variables: dict[str, Any], field: str) -> None:
    error = await world.refused(TI, CREATE, {"title": "Ok", "price": 0, **variables}, as_="owner")
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", field)
    assert (await world.ok(TI, "{ teachingCourses { id } }", as_="owner"))["teachingCourses"] == []


async def test_create_course_accepts_limits(world: World) -> None:
    variables = {"title": "t" * 200, "price": 0, "description": "d" * 10_000}
    course = (await world.ok(TI, CREATE, variables, as_="owner"))["createCourse"]
    assert (len(course["title"]), len(course["description"]), course["priceCents"]) == (200, 10_000, 0)


async def test_update_course_changes_only_what_is_given(world: World) -> None:
    course = await world.create_course(published=False, title="Old")
    await world.ok(TI, UPDATE, {"id": course["id"], "description": "about"}, as_="owner")
    data = await world.ok(TI, UPDATE, {"id": course["id"], "title": "New", "price": 500}, as_="owner")
    assert data["updateCourse"] == {
        "id": course["id"],
        "title": "New",
        "description": "about",
        "priceCents": 500,
        "currency": "USD",
        "published": False,
    }
    # null leaves non-nullable fields alone but clears the description
    data = await world.ok(
        TI, UPDATE, {"id": course["id"], "title": None, "description": None, "published": True}, as_="owner"
    )
    assert data["updateCourse"]["title"] == "New"
    assert data["updateCourse"]["description"] is None
    assert data["updateCourse"]["published"] is True
    data = await world.ok(TI, UPDATE, {"id": course["id"], "currency": "gbp"}, as_="owner")
    assert data["updateCourse"]["currency"] == "GBP"


@pytest.mark.parametrize(
    ("variables", "field"),
    [({"title": " "}, "title"), ({"price": -5}, "priceCents"), ({"currency": "DOLLAR"}, "currency")],
)
async def test_update_course_rejects_bad_input(world: World, variables: dict[str, Any], field: str) -> None:
    course = await world.create_course(title="Keep")
    error = await world.refused(TI, UPDATE, {"id": course["id"], **variables}, as_="owner")
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", field)
    data = await world.ok(TI, "query($id: ID!) { course(id: $id) { title priceCents currency } }", {"id": course["id"]})
    assert data["course"] == {"title": "Keep", "priceCents": 0, "currency": "USD"}


@pytest.mark.parametrize(
    ("operation", "variables"),
    [
        ('mutation($id: ID!) { updateCourse(id: $id, title: "x") { id } }', {"id": "nope"}),
        ("mutation($id: ID!) { deleteCourse(id: $id) }", {"id": "nope"}),
        ('mutation($id: ID!) { createModule(courseId: $id, title: "x") { id } }', {"id": "nope"}),
        ('mutation($id: ID!) { createLesson(moduleId: $id, title: "x") { id } }', {"id": "nope"}),
    ],
)
async def test_unknown_ids_are_not_found(world: World, operation: str, variables: dict[str, Any]) -> None:
    assert (await world.refused(TI, operation, variables, as_="owner"))["code"] == "NOT_FOUND"
    assert (await world.refused(TI, operation, variables, as_="admin"))["code"] == "NOT_FOUND"


async def test_modules_and_lessons_keep_creation_order(world: World) -> None:
    course = await world.create_course()
    first = await world.create_module(course["id"], "First")
    second = await world.create_module(course["id"], "Second")
    third = await world.create_module(course["id"], "Third")
    assert [first["position"], second["position"], third["position"]] == [1, 2, 3]
    b = await world.create_lesson(second["id"], "B1")
    b2 = await world.create_lesson(second["id"], "B2", preview=True)
    a = await world.create_lesson(first["id"], "A1", content=None)
    assert (b["position"], b2["position"], a["position"]) == (1, 2, 1)
    assert b["content"] == "secret"  # the owner sees what they wrote
    data = await world.ok(
        TI,
        "query($id: ID!) { course(id: $id) { modules { title position lessons { title position preview } } } }",
        {"id": course["id"]},
    )
    assert data["course"]["modules"] == [
        {"title": "First", "position": 1, "lessons": [{"title": "A1", "position": 1, "preview": False}]},
        {
            "title": "Second",
            "position": 2,
            "lessons": [
                {"title": "B1", "position": 1, "preview": False},
                {"title": "B2", "position": 2, "preview": True},
            ],
        },
        {"title": "Third", "position": 3, "lessons": []},
    ]


@pytest.mark.parametrize(
    ("variables", "field"),
    [({"title": ""}, "title"), ({"title": "x" * 201}, "title"), ({"content": "c" * 100_001}, "content")],
)
async def test_lesson_and_module_input_is_validated(world: World, variables: dict[str, Any], field: str) -> None:
    course = await world.create_course()
    module = await world.create_module(course["id"])
    lesson = {"m": module["id"], "t": "Lesson", **{("t" if k == "title" else "c"): v for k, v in variables.items()}}
    error = await world.refused(
        TI,
        "mutation($m: ID!, $t: String!, $c: String) { createLesson(moduleId: $m, title: $t, content: $c) { id } }",
        lesson,
        as_="owner",
    )
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", field)
    if field == "title":
        error = await world.refused(
            TI,
            "mutation($c: ID!, $t: String!) { createModule(courseId: $c, title: $t) { id } }",
            {"c": course["id"], "t": variables["title"]},
            as_="owner",
        )
        assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "title")


async def test_courses_pages_through_published_courses_in_a_stable_order(world: World) -> None:
    published = [(await world.create_course(title=f"C{i}"))["id"] for i in range(5)]
    hidden = await world.create_course(title="Draft", published=False)
    seen: list[str] = []
    after = None
    while True:
        page = (await world.ok(TI, COURSES, {"first": 2, "after": after}))["courses"]
        seen.extend(c["id"] for c in page)
        if len(page) < 2:
            break
        after = page[-1]["id"]
    assert seen == published  # creation order, nothing twice, the draft left out
    assert hidden["id"] not in seen
    assert [c["id"] for c in (await world.ok(TI, "{ courses { id } }"))["courses"]] == published
    # a cursor that was unpublished since still marks its place
    await world.ok(TI, UPDATE, {"id": published[1], "published": False}, as_="owner")
    page = (await world.ok(TI, COURSES, {"first": 10, "after": published[1]}))["courses"]
    assert [c["id"] for c in page] == published[2:]


async def test_courses_default_page_size_is_20(world: World) -> None:
    for i in range(21):
        await world.create_course(title=f"C{i}")
    assert len((await world.ok(TI, "{ courses { id } }"))["courses"]) == 20
    assert len((await world.ok(TI, COURSES, {"first": None}))["courses"]) == 20


@pytest.mark.parametrize(
    ("variables", "field"),
    [({"first": 0}, "first"), ({"first": -1}, "first"), ({"first": 101}, "first"), ({"after": "nope"}, "after")],
)
async def test_courses_rejects_bad_paging(world: World, variables: dict[str, Any], field: str) -> None:
    error = await world.refused(TI, COURSES, variables)
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", field)


async def test_courses_by_ids_keeps_order_and_hides_what_the_caller_may_not_see(world: World) -> None:
    a = await world.create_course(title="A")
    b = await world.create_course(title="B", price=4900)
    draft = await world.create_course(title="Draft", published=False)
    query = "query($ids: [ID!]!) { coursesByIds(ids: $ids) { id title priceCents } }"
    ids = [b["id"], "unknown", a["id"], draft["id"], b["id"]]
    data = await world.ok(TI, query, {"ids": ids}, as_="student")
    assert data["coursesByIds"] == [
        {"id": b["id"], "title": "B", "priceCents": 4900},
        None,
        {"id": a["id"], "title": "A", "priceCents": 0},
        None,
        {"id": b["id"], "title": "B", "priceCents": 4900},
    ]
    for who in ("owner", "admin", "service"):
        data = await world.ok(TI, query, {"ids": [draft["id"]]}, as_=who)
        assert data["coursesByIds"] == [{"id": draft["id"], "title": "Draft", "priceCents": 0}]
    assert (await world.ok(TI, query, {"ids": []}))["coursesByIds"] == []
    error = await world.refused(TI, query, {"ids": ["x"] * 501}, as_="service")
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "ids")


async def test_teaching_courses_lists_the_callers_own_courses(world: World) -> None:
    mine = [await world.create_course(title="Mine"), await world.create_course(title="Draft", published=False)]
    await world.create_course(owner="teacher", title="Theirs")
    data = await world.ok(TI, "{ teachingCourses { id teacherId } }", as_="owner")
    assert [c["id"] for c in data["teachingCourses"]] == [c["id"] for c in mine]
    assert (await world.ok(TI, "{ teachingCourses { id } }", as_="student"))["teachingCourses"] == []


async def test_delete_course_removes_its_modules_and_lessons(world: World) -> None:
    ids = await world.course_with_lessons()
    other = await world.course_with_lessons()
    data = await world.ok(TI, "mutation($id: ID!) { deleteCourse(id: $id) }", {"id": ids["course"]}, as_="owner")
    assert data["deleteCourse"] is True
    assert (await world.ok(TI, "query($id: ID!) { course(id: $id) { id } }", {"id": ids["course"]}, as_="owner")) == {
        "course": None
    }
    async with world.app.host.plugins[TI].sessions() as session:
        assert await session.scalar(select(func.count()).select_from(modules)) == 1
        remaining = (await session.execute(select(lessons.c.module_id))).scalars().all()
    assert remaining == [other["module"], other["module"]]
    error = await world.refused(
        TI, 'mutation($m: ID!) { createLesson(moduleId: $m, title: "x") { id } }', {"m": ids["module"]}, as_="owner"
    )
    assert error["code"] == "NOT_FOUND"
