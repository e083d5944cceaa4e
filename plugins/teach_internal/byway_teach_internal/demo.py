"""``teach-internal``'s part of ``byway demo``: published courses of the demo teacher.

Each course has a category, a difficulty and a cover; lessons have a type (text, video, quiz) and
a duration, and the first lesson of each course is a preview. ``facts`` gets ``free_course_id``,
``paid_course_id`` and ``free_course_lesson_ids`` (for students-internal's learner part way through).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

import byway
from byway_teach_internal import store
from byway_teach_internal.models import courses

COVERS = "https://picsum.photos/seed"
VIDEOS = "https://videos.example.org/byway"


@dataclass(frozen=True)
class DemoLesson:
    """A lesson of the demo: (title, type, minutes, content)."""

    title: str
    type: str
    minutes: int
    content: str


@dataclass(frozen=True)
class DemoCourse:
    """A course of the demo with its modules (title, lessons)."""

    key: str
    title: str
    description: str
    price_cents: int
    category: str
    difficulty: str
    modules: tuple[tuple[str, tuple[DemoLesson, ...]], ...]


DEMO_COURSES = (
    DemoCourse(
        "free",
        "Python from Zero",
        "A free first course: values, control flow and functions, one small step at a time.",
        0,
        "Programming",
        "BEGINNER",
        (
            (
                "Getting started",
                (
                    DemoLesson("Installing Python", "VIDEO", 6, "Download Python 3.12 and run `python3 --version`."),
                    DemoLesson("Your first program", "TEXT", 10, "Write `print('hello')` in hello.py and run it."),
                ),
            ),
            (
                "Control flow",
                (
                    DemoLesson("if and else", "TEXT", 8, "`if` runs a block when its condition is true."),
                    DemoLesson("Loops", "VIDEO", 12, "`for item in items:` visits each item in turn."),
                    DemoLesson("Check yourself", "QUIZ", 5, "What does `for x in range(3): print(x)` print?"),
                ),
            ),
        ),
    ),
    DemoCourse(
        "paid",
        "Async Python in Production",
        "asyncio, structured concurrency and databases for services that stay up.",
        4900,
        "Programming",
        "ADVANCED",
        (
            (
                "The event loop",
                (
                    DemoLesson("Why async?", "VIDEO", 9, "One thread can wait on thousands of sockets."),
                    DemoLesson("Coroutines and tasks", "TEXT", 15, "`await` suspends; `create_task` runs beside."),
                ),
            ),
            (
                "Going to production",
                (
                    DemoLesson("Timeouts everywhere", "TEXT", 11, "Wrap every network call in `asyncio.timeout`."),
                    DemoLesson("Connection pools", "VIDEO", 14, "Size the pool to what the database can serve."),
                    DemoLesson("Production quiz", "QUIZ", 6, "Which call needs a timeout? All of them."),
                ),
            ),
        ),
    ),
    DemoCourse(
        "design",
        "Sketching for Product Designers",
        "Quick drawing habits for interfaces: boxes, arrows and flows on paper before pixels.",
        0,
        "Design",
        "INTERMEDIATE",
        (
            (
                "Lines and boxes",
                (
                    DemoLesson("Pens and paper", "VIDEO", 4, "A fine liner and a grey marker are enough."),
                    DemoLesson("Drawing a screen", "TEXT", 9, "Start with the frame, then the biggest block."),
                    DemoLesson("Flow quiz", "QUIZ", 3, "Which comes first: the flow or the screen?"),
                ),
            ),
        ),
    ),
)


async def _create(plugin: byway.PluginRuntime, teacher_id: str, course: DemoCourse) -> str:
    async with plugin.sessions() as session:
        created = await store.insert_course(
            session,
            teacher_id=teacher_id,
            published=True,
            title=course.title,
            description=course.description,
            price_cents=course.price_cents,
            currency="USD",
            category=course.category,
            difficulty=course.difficulty,
            cover_url=f"{COVERS}/byway-{course.key}/800/450",
        )
        for module_title, lessons in course.modules:
            module = await store.insert_module(session, created["id"], module_title)
            row = await store.get_module(session, module["id"])
            assert row is not None
            for index, lesson in enumerate(lessons):
                await store.insert_lesson(
                    session,
                    row,
                    title=lesson.title,
                    content=lesson.content,
                    preview=module_title == course.modules[0][0] and index == 0,
                    type=lesson.type,
                    duration=lesson.minutes * 60,
                    video_url=f"{VIDEOS}/{course.key}/{index + 1}.mp4" if lesson.type == "VIDEO" else None,
                )
        await session.commit()
    return str(created["id"])


async def seed(plugin: byway.PluginRuntime, facts: dict[str, Any]) -> list[str]:
    """Create the demo teacher's published courses once; record their ids in ``facts``."""
    teacher_id = facts.get("teacher_user_id")
    if not teacher_id:
        return ["teach-internal: no demo teacher (facts['teacher_user_id'] is missing); no courses created"]
    lines: list[str] = []
    for course in DEMO_COURSES:
        async with plugin.sessions() as session:
            existing = await session.scalar(
                select(courses.c.id).where(courses.c.teacher_id == teacher_id, courses.c.title == course.title)
            )
        course_id = existing or await _create(plugin, teacher_id, course)
        facts[f"{course.key}_course_id"] = course_id
        lessons = sum(len(m[1]) for m in course.modules)
        kind = (
            "free"
            if course.price_cents == 0
            else f"paid, {course.price_cents // 100}.{course.price_cents % 100:02d} USD"
        )
        lines.append(
            f"teach-internal: course '{course.title}' ({kind}, {course.category}, {course.difficulty.lower()}, "
            f"{len(course.modules)} module{'s' if len(course.modules) != 1 else ''}, {lessons} lessons of text, "
            "video and quiz, first one a preview) "
            f"id={course_id}"
        )
    async with plugin.sessions() as session:
        facts["free_course_lesson_ids"] = (await store.lesson_ids_of_courses(session, [facts["free_course_id"]]))[
            facts["free_course_id"]
        ]
    return lines


#: After authentication (10) and teach (20); before students-internal (40).
DEMO_STEP = byway.DemoStep(order=30, run=seed)
