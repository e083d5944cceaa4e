"""``teach-internal``'s part of ``byway demo``: a free and a paid published course of the demo teacher."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from byway.runtime import PluginRuntime
from byway_teach_internal import store
from byway_teach_internal.models import courses

#: (title, description, price in cents, modules: (title, lessons: (title, content, preview)))
DEMO_COURSES: list[tuple[str, str, int, list[tuple[str, list[tuple[str, str, bool]]]]]] = [
    (
        "Python from Zero",
        "A free first course: values, control flow and functions, one small step at a time.",
        0,
        [
            (
                "Getting started",
                [
                    ("Installing Python", "Download Python 3.12 from python.org and run `python3 --version`.", True),
                    ("Your first program", "Write `print('hello')` in hello.py and run `python3 hello.py`.", False),
                ],
            ),
            (
                "Control flow",
                [
                    ("if and else", "`if` runs a block when its condition is true; `else` when it is not.", False),
                    ("Loops", "`for item in items:` visits each item; `while` repeats while a condition holds.", False),
                    ("Functions", "`def greet(name): return f'hello {name}'` names a piece of work.", False),
                ],
            ),
        ],
    ),
    (
        "Async Python in Production",
        "asyncio, structured concurrency and databases for services that stay up.",
        4900,
        [
            (
                "The event loop",
                [
                    ("Why async?", "One thread can wait on thousands of sockets; async makes the waiting cheap.", True),
                    (
                        "Coroutines and tasks",
                        "`await` suspends a coroutine; `asyncio.create_task` runs one beside.",
                        False,
                    ),
                ],
            ),
            (
                "Going to production",
                [
                    ("Timeouts everywhere", "Wrap every network call in `asyncio.timeout(...)`.", False),
                    ("Connection pools", "Reuse connections: size the pool to what the database can serve.", False),
                ],
            ),
        ],
    ),
]


async def seed(plugin: PluginRuntime, facts: dict[str, Any]) -> list[str]:
    """Create the demo teacher's two published courses once; record their ids in ``facts``."""
    teacher_id = facts.get("teacher_user_id")
    if not teacher_id:
        return ["teach-internal: no demo teacher (facts['teacher_user_id'] is missing); no courses created"]
    ids: list[str] = []
    lines: list[str] = []
    async with plugin.sessions() as session:
        for title, description, price, course_modules in DEMO_COURSES:
            existing = await session.scalar(
                select(courses.c.id).where(courses.c.teacher_id == teacher_id, courses.c.title == title)
            )
            if existing is None:
                course = await store.insert_course(
                    session,
                    teacher_id=teacher_id,
                    title=title,
                    description=description,
                    price_cents=price,
                    currency="USD",
                    published=True,
                )
                for module_title, module_lessons in course_modules:
                    module = await store.insert_module(session, course["id"], module_title)
                    row = await store.get_module_with_owner(session, module["id"])
                    for lesson_title, content, preview in module_lessons:
                        await store.insert_lesson(session, row, title=lesson_title, content=content, preview=preview)
                existing = course["id"]
            ids.append(existing)
            lessons = sum(len(m[1]) for m in course_modules)
            kind = "free" if price == 0 else f"paid, {price // 100}.{price % 100:02d} USD"
            lines.append(
                f"teach-internal: course '{title}' ({kind}, published, {len(course_modules)} modules, "
                f"{lessons} lessons, first lesson is a preview) id={existing}"
            )
        await session.commit()
    facts["free_course_id"], facts["paid_course_id"] = ids
    return lines
