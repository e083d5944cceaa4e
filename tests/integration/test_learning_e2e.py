"""The learning journey end to end, with the four real plugins (and over HTTP in the CI re-run).

A teacher builds a course (two modules, four lessons of each type), reorders and edits it, and
publishes it; a student finds it by a word of its description, enrolls, completes every lesson and
sees progress rise to 100; the certificate verifies publicly; the teacher deletes a lesson and its
progress records are gone from students-internal's database; ``byway audit`` finds nothing dangling.
"""

from __future__ import annotations

from typing import Any

from byway_students_internal.models import lesson_progress
from sqlalchemy import select

from byway import relations

from .conftest import Actor, World

TI, SI = "teach-internal", "students-internal"
TYPES = ("TEXT", "VIDEO", "QUIZ")


async def ok(world: World, plugin: str, query: str, variables: dict[str, Any] | None = None, *, as_: Actor) -> Any:
    body = await world.gql(plugin, query, variables, token=as_.token)
    assert not body.get("errors"), body
    return body["data"]


async def build(world: World, teacher: Actor) -> tuple[str, list[str], dict[str, list[str]]]:
    """The teacher's course: two modules with four lessons of each type; (course, modules, lessons by module)."""
    course = (
        await ok(
            world,
            TI,
            """mutation { createCourse(title: "Sourdough at Home", priceCents: 0,
              description: "Starter, folding and baking a crusty loaf in a home oven",
              category: " Cooking ", difficulty: BEGINNER, coverUrl: "https://img.example/bread.jpg") {
                id published } }""",
            as_=teacher,
        )
    )["createCourse"]
    assert course["published"] is False
    modules: list[str] = []
    lessons: dict[str, list[str]] = {}
    for title in ("Starter", "Baking"):
        module = (
            await ok(
                world,
                TI,
                "mutation($c: ID!, $t: String!) { createModule(courseId: $c, title: $t) { id position } }",
                {"c": course["id"], "t": title},
                as_=teacher,
            )
        )["createModule"]
        modules.append(module["id"])
        lessons[module["id"]] = []
        for n, kind in enumerate(TYPES * 4):
            variables = {
                "m": module["id"],
                "t": f"{title} {n + 1}",
                "ty": kind,
                "d": 60 * (n + 1),
                "v": f"https://videos.example/{n}.mp4" if kind == "VIDEO" else None,
                "p": n == 0,
            }
            created = await ok(
                world,
                TI,
                """mutation($m: ID!, $t: String!, $ty: LessonType, $d: Int, $v: String, $p: Boolean) {
                  createLesson(moduleId: $m, title: $t, type: $ty, duration: $d, videoUrl: $v, preview: $p,
                               content: "Knead, wait, bake.") { id position type } }""",
                variables,
                as_=teacher,
            )
            assert created["createLesson"]["position"] == n + 1
            lessons[module["id"]].append(created["createLesson"]["id"])
    return course["id"], modules, lessons


async def test_teacher_builds_student_finishes_certificate_verifies_lesson_delete_cascades(world: World) -> None:
    teacher, _profile = await world.teacher()
    course, modules, lessons = await build(world, teacher)

    # reorder: modules swapped, the first module's lessons reversed; edit a lesson; publish
    reordered = await ok(
        world,
        TI,
        "mutation($c: ID!, $ids: [ID!]!) { reorderModules(courseId: $c, ids: $ids) { id position } }",
        {"c": course, "ids": list(reversed(modules))},
        as_=teacher,
    )
    assert [m["id"] for m in reordered["reorderModules"]] == list(reversed(modules))
    first = modules[0]
    await ok(
        world,
        TI,
        "mutation($m: ID!, $ids: [ID!]!) { reorderLessons(moduleId: $m, ids: $ids) { id } }",
        {"m": first, "ids": list(reversed(lessons[first]))},
        as_=teacher,
    )
    edited = await ok(
        world,
        TI,
        'mutation($id: ID!) { updateLesson(id: $id, title: "Feeding the starter", duration: 420) { title duration } }',
        {"id": lessons[first][3]},
        as_=teacher,
    )
    assert edited["updateLesson"] == {"title": "Feeding the starter", "duration": 420}
    await ok(
        world, TI, "mutation($id: ID!) { updateCourse(id: $id, published: true) { id } }", {"id": course}, as_=teacher
    )

    outline = await ok(
        world,
        TI,
        "query($id: ID!) { course(id: $id) { lessonCount category modules { id lessons { id position type } } } }",
        {"id": course},
        as_=teacher,
    )
    found_modules = outline["course"]["modules"]
    assert [m["id"] for m in found_modules] == list(reversed(modules))
    assert [x["id"] for x in found_modules[1]["lessons"]] == list(reversed(lessons[first]))
    assert outline["course"]["lessonCount"] == 24 and outline["course"]["category"] == "Cooking"
    assert sorted(x["type"] for m in found_modules for x in m["lessons"]) == sorted(TYPES * 8)

    # the student finds it by a word of its description, and enrolls
    student = await world.user("learner")
    search = "query($s: String!) { courses(search: $s) { id teacher { displayName } } courseCount(search: $s) }"
    data = await ok(world, TI, search, {"s": "crusty"}, as_=student)
    assert [c["id"] for c in data["courses"]] == [course] and data["courseCount"] == 1
    assert data["courses"][0]["teacher"] == {"displayName": "Test User"}
    await ok(world, SI, "mutation($c: ID!) { enrollMe(courseId: $c) { id } }", {"c": course}, as_=student)

    # ... completes every lesson: progress rises to 100
    everything = [lesson for m in modules for lesson in lessons[m]]
    update = "mutation($l: ID!) { updateProgress(lessonId: $l, completed: true) { completed courseId } }"
    my_courses = "{ myCourses { progress completed completedAt course { title lessonCount } } }"
    seen = []
    for n, lesson in enumerate(everything):
        assert (await ok(world, SI, update, {"l": lesson}, as_=student))["updateProgress"]["courseId"] == course
        if n % 6 == 5:
            seen.append((await ok(world, SI, my_courses, as_=student))["myCourses"][0]["progress"])
    assert seen == [25, 50, 75, 100]
    enrollment = (await ok(world, SI, my_courses, as_=student))["myCourses"][0]
    assert enrollment["completed"] is True and enrollment["course"] == {"title": "Sourdough at Home", "lessonCount": 24}

    # the certificate verifies publicly (no token), showing only name, course title and date
    certificate = (
        await ok(
            world,
            SI,
            "query($c: ID!) { certificate(courseId: $c) { code url studentName courseTitle issuedAt } }",
            {"c": course},
            as_=student,
        )
    )["certificate"]
    assert certificate["issuedAt"] == enrollment["completedAt"]
    response = await world.app.client.get(f"/api/students-internal/certificates/{certificate['code']}")
    assert response.status_code == 200
    assert response.json() == {
        "valid": True,
        "courseTitle": "Sourdough at Home",
        "studentName": "Test User",
        "issuedAt": certificate["issuedAt"],
    }

    # the teacher deletes a lesson: its progress rows are gone from students-internal's own database
    doomed = lessons[modules[1]][0]
    students_db = world.app.host.plugins[SI]
    query = select(lesson_progress.c.lesson_id).where(lesson_progress.c.lesson_id == doomed)
    async with students_db.sessions() as session:
        assert len((await session.execute(query)).all()) == 1
    assert (await ok(world, TI, "mutation($id: ID!) { deleteLesson(id: $id) }", {"id": doomed}, as_=teacher)) == {
        "deleteLesson": True
    }
    async with students_db.sessions() as session:
        assert (await session.execute(query)).all() == []
        remaining = len((await session.execute(select(lesson_progress.c.id))).all())
    assert remaining == 23
    enrollment = (await ok(world, SI, my_courses, as_=student))["myCourses"][0]
    assert (enrollment["progress"], enrollment["completed"]) == (100, True)

    # the course stays restricted by its enrollment and certificate; nothing dangles
    body = await world.gql(TI, "mutation($id: ID!) { deleteCourse(id: $id) }", {"id": course}, token=teacher.token)
    references = {(r["type"], r["count"]) for r in body["errors"][0]["extensions"]["references"]}
    assert references == {("Enrollment", 1), ("Certificate", 1)}
    reports = {r.relation.source: r for r in await relations.audit(world.app.host)}
    assert reports["students-internal.LessonProgress.lessonId"].checked == 23
    assert reports["students-internal.Certificate.courseId"].checked == 1
    assert all(report.clean for report in reports.values())


async def test_course_teacher_is_one_call_to_each_plugin_with_the_real_plugins(world: World) -> None:
    teachers = [(await world.teacher())[0] for _ in range(2)]
    for n in range(6):
        await world.course(teachers[n % 2])
    with world.app.host.observe_calls() as calls:
        body = await world.gql(TI, "{ courses(first: 50) { teacherId teacher { userId displayName bio } } }")
    assert sorted((c.caller, c.target, c.as_kind) for c in calls) == [
        (TI, "authentication", "service"),
        (TI, "teach", "service"),
    ]
    courses = body["data"]["courses"]
    assert len(courses) == 6
    assert all(
        c["teacher"] == {"userId": c["teacherId"], "displayName": "Test User", "bio": "I teach"} for c in courses
    )
