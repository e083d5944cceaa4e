"""``byway.testing`` for plugin authors: the seeded first-party world, and the browser setting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import tests.plugins.notes as notes
from byway.testing import World, chromium_path, require_browser

pytest.importorskip("byway_students_internal")

ENROLLED = "query E($c: ID!) { isEnrolledMe(courseId: $c) }"
COURSE = "query C($id: ID!) { course(id: $id) { id published priceCents teacherId } }"
PROFILE = "query P($id: ID!) { teacherProfile(id: $id) { id verified userId } }"


@pytest.fixture
def byway_world_plugins() -> list[Any]:
    return [notes]


async def test_byway_world_is_seeded_through_the_plugins_apis(byway_world: World) -> None:
    world = byway_world
    assert {"authentication", "teach", "teach-internal", "students-internal", "notes"} <= set(world.app.host.plugins)
    profile = (await world.gql("teach", PROFILE, {"id": world.teacher_profile_id}))["data"]["teacherProfile"]
    assert profile == {"id": world.teacher_profile_id, "verified": True, "userId": world.verified_teacher.user_id}
    for course_id, price in ((world.free_course_id, 0), (world.paid_course_id, 4900)):
        course = (await world.gql("teach-internal", COURSE, {"id": course_id}))["data"]["course"]
        assert (course["published"], course["priceCents"]) == (True, price)
    student = world.student.token
    assert (await world.gql("students-internal", ENROLLED, {"c": world.free_course_id}, student))["data"] == {
        "isEnrolledMe": True
    }
    assert (await world.gql("students-internal", ENROLLED, {"c": world.paid_course_id}, student))["data"] == {
        "isEnrolledMe": False
    }


def test_chromium_path_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BYWAY_TEST_CHROMIUM", raising=False)
    assert chromium_path() == Path("/usr/bin/chromium")
    monkeypatch.setenv("BYWAY_TEST_CHROMIUM", "/opt/chrome/chrome")
    assert chromium_path() == Path("/opt/chrome/chrome")


def test_a_missing_browser_skips_with_a_clear_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BYWAY_TEST_CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.delenv("BYWAY_TEST_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"no-chromium \(Debian: apt-get install chromium\)"):
        require_browser()
    monkeypatch.setenv("BYWAY_TEST_BROWSER", "required")
    with pytest.raises(pytest.fail.Exception, match="BYWAY_TEST_BROWSER=required makes its absence a failure"):
        require_browser()
