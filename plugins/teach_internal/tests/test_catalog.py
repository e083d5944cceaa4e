"""The catalogue: full-text search in the database's own engine, filters, categories, Course.teacher."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from byway.settings import Settings

if TYPE_CHECKING:
    from conftest import World, WorldFactory

    from byway.testing import FakeAuthentication

TI = "teach-internal"
SEARCH = """
query($s: String, $c: String, $d: Difficulty, $f: Boolean, $first: Int, $after: ID) {
  courses(search: $s, category: $c, difficulty: $d, free: $f, first: $first, after: $after) { id title }
  courseCount(search: $s, category: $c, difficulty: $d, free: $f)
}"""
FACETS = """
mutation($id: ID!, $d: String, $c: String, $df: Difficulty) {
  updateCourse(id: $id, description: $d, category: $c, difficulty: $df) { id }
}"""

#: Text that is syntax to FTS5, tsquery or SQL, and must only ever be words.
NASTY = [
    '"',
    '"unbalanced',
    "*",
    "pyth*",
    "NEAR(python loops)",
    "python NEAR loops",
    "-python",
    "python -loops",
    "(",
    "((python",
    "python)",
    "title:python",
    "^python",
    "python AND OR NOT",
    "' OR 1=1 --",
    "'; DROP TABLE courses; --",
    "%",
    "_",
    "\\",
    "🐍 python",
    "x" * 10_000,
    "python " * 2_000,
    "a:b:c {} [] <> ~ ! @ # $ & | ?",
    "   ",
    "",
]


async def course(world: World, title: str, description: str, **facets: Any) -> str:
    created = await world.create_course(title=title, price=facets.pop("price", 0))
    variables = {"id": created["id"], "d": description, "c": facets.get("category"), "df": facets.get("difficulty")}
    await world.ok(TI, FACETS, variables, as_="owner")
    return str(created["id"])


async def catalogue(world: World) -> dict[str, str]:
    ids = {
        "loops": await course(world, "Python loops", "for and while, step by step", category="Programming"),
        "py": await course(world, "Python basics", "values and functions; loops come later", category="programming"),
        "async": await course(
            world, "Async services", "event loops and python coroutines", category="Backend", difficulty="ADVANCED"
        ),
        "paint": await course(world, "Watercolour", "brushes, paper and water", category="Art", difficulty="BEGINNER"),
        "paid": await course(world, "Python for money", "loops that pay", category="Programming", price=900),
    }
    draft = await world.create_course(title="Secret python loops", published=False)
    ids["draft"] = draft["id"]
    return ids


async def search(world: World, **variables: Any) -> tuple[list[str], int]:
    data = await world.ok(TI, SEARCH, variables)
    return [c["id"] for c in data["courses"]], data["courseCount"]


async def test_search_ranks_filters_and_never_shows_drafts(
    open_world: WorldFactory, byway_settings: Settings, database_url: str
) -> None:
    async with open_world(settings=byway_settings.with_overrides(database_url=database_url)) as world:
        ids = await catalogue(world)
        found, count = await search(world, s="loops")
        # "loops" in the title ranks above "loops" only in the description; the draft never appears
        assert found[0] == ids["loops"] and set(found) == {ids["loops"], ids["py"], ids["async"], ids["paid"]}
        assert count == 4
        assert (await search(world, s="LOOP"))[0] == found  # stemmed, case-insensitive
        assert (await search(world, s="python loops"))[1] == 4  # every word must match
        assert (await search(world, s="python watercolour"))[1] == 0
        assert await search(world, s="loops", f=True) == ([i for i in found if i != ids["paid"]], 3)
        assert (await search(world, s="loops", f=False))[0] == [ids["paid"]]
        assert (await search(world, c=" PROGRAMMING "))[1] == 3  # category filter ignores case and blanks
        assert await search(world, d="ADVANCED") == ([ids["async"]], 1)
        assert await search(world, s="secret") == ([], 0)
        assert ids["draft"] not in (await search(world))[0]

        # pages of a ranked search: disjoint, in order, together the whole result
        pages: list[str] = []
        after = None
        while True:
            page, _ = await search(world, s="loops", first=1, after=after)
            if not page:
                break
            pages += page
            after = page[-1]
        assert pages == found
        error = await world.refused(TI, SEARCH, {"s": "loops", "after": ids["paint"]})
        assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "after")

        categories = (await world.ok(TI, "{ categories { name courseCount } }"))["categories"]
        assert [(c["name"].lower(), c["courseCount"]) for c in categories] == [
            ("art", 1),
            ("backend", 1),
            ("programming", 3),
        ]


async def test_a_search_ranks_the_newest_matches_of_a_big_catalogue_and_counts_them_all(
    open_world: WorldFactory, byway_settings: Settings, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from byway_teach_internal.store import catalog

    monkeypatch.setattr(catalog, "SEARCH_WINDOW", 3)  # a catalogue "bigger" than the window
    async with open_world(settings=byway_settings.with_overrides(database_url=database_url)) as world:
        oldest_best = await course(world, "Drawing drawing drawing", "drawing")  # the best match, oldest
        others = [await course(world, f"Drawing {n}", "pencils") for n in range(4)]
        await course(world, "Painting", "brushes")
        found, count = await search(world, s="drawing")
        assert count == 5  # counts are never bounded
        assert set(found) == set(others[-3:])  # only the newest 3 matches are ranked
        assert oldest_best not in found
        monkeypatch.setattr(catalog, "SEARCH_WINDOW", 500)
        found, count = await search(world, s="drawing")
        assert found[0] == oldest_best and count == 5 and set(found) == {oldest_best, *others}


async def test_the_index_follows_every_write(
    open_world: WorldFactory, byway_settings: Settings, database_url: str
) -> None:
    async with open_world(settings=byway_settings.with_overrides(database_url=database_url)) as world:
        course_id = await course(world, "Knitting", "wool and needles")
        assert (await search(world, s="wool"))[0] == [course_id]
        await world.ok(TI, FACETS, {"id": course_id, "d": "cotton and hooks"}, as_="owner")
        assert (await search(world, s="wool"))[1] == 0
        assert (await search(world, s="hooks"))[0] == [course_id]
        unpublish = "mutation($id: ID!) { updateCourse(id: $id, published: false) { id } }"
        await world.ok(TI, unpublish, {"id": course_id}, as_="owner")
        assert (await search(world, s="hooks"))[1] == 0
        await world.ok(TI, "mutation($id: ID!) { deleteCourse(id: $id) }", {"id": course_id}, as_="owner")
        other = await course(world, "Crochet", "hooks and yarn")
        assert (await search(world, s="hooks"))[0] == [other]


def fuzz_texts() -> list[str]:
    """Search texts drawn by hypothesis (deterministically): any text, and texts made of syntax."""
    drawn: list[str] = []
    syntax = st.sampled_from(['"', "*", "(", ")", "-", "+", "^", ":", "NEAR", "AND", "OR", "NOT", "'", ";", "--"])
    words = st.lists(st.one_of(syntax, st.sampled_from(["python", "loops", "x"])), max_size=12).map(" ".join)

    # NUL and lone surrogates are refused at the HTTP boundary (BAD_USER_INPUT) before any resolver.
    text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=200)

    @settings(max_examples=150, database=None, derandomize=True)
    @given(st.one_of(text, words))
    def collect(text: str) -> None:
        drawn.append(text)

    collect()
    return drawn


async def test_search_input_is_text_never_syntax(
    open_world: WorldFactory, byway_settings: Settings, database_url: str
) -> None:
    async with open_world(settings=byway_settings.with_overrides(database_url=database_url)) as world:
        ids = await catalogue(world)
        published = {v for k, v in ids.items() if k != "draft"}
        for text in NASTY + fuzz_texts():
            body = await world.gql(TI, SEARCH, {"s": text, "first": 100})
            assert not body.get("errors") and body["_status"] == 200, (text, body)
            found = {c["id"] for c in body["data"]["courses"]}
            assert found <= published and len(found) == body["data"]["courseCount"], text
        assert (await search(world, s='"python" -(loops*'))[1] == 4  # the words still count


async def test_teacher_is_one_call_to_teach_and_one_to_authentication(
    open_world: WorldFactory, fake_authentication: FakeAuthentication
) -> None:
    async with open_world(fake_authentication) as world:
        for owner in ("owner", "teacher", "owner", "teacher", "owner"):
            await world.create_course(owner=owner)
        with world.app.host.observe_calls() as calls:
            data = await world.ok(TI, "{ courses { teacherId teacher { userId displayName bio avatarUrl } } }")
        assert [(c.target, c.as_kind) for c in calls] in ([("authentication", "service"), ("teach", "service")],)
        teachers = {c["teacherId"]: c["teacher"] for c in data["courses"]}
        assert teachers == {
            world.user_id("owner"): {
                "userId": "u-owner",
                "displayName": "Owner Tester",
                "bio": "owner",
                "avatarUrl": "https://img.example/owner.png",
            },
            world.user_id("teacher"): {
                "userId": "u-teacher",
                "displayName": "Teacher Tester",
                "bio": "teacher",
                "avatarUrl": None,
            },
        }


async def test_teacher_is_null_without_authentication(world: World) -> None:
    await world.create_course()
    with world.app.host.observe_calls() as calls:
        data = await world.ok(TI, "{ courses { teacher { userId } } }")
    assert data["courses"] == [{"teacher": None}] and calls == []


@pytest.mark.parametrize("first", [0, 101, -1])
async def test_page_size_is_bounded(world: World, first: int) -> None:
    error = await world.refused(TI, SEARCH, {"s": "x", "first": first})
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "first")
