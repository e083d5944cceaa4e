"""Cross-plugin integration tests: the real first-party plugins, loaded explicitly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from byway.settings import Settings
from byway.testing import TestApp, require_plugin, running_app

# Loud: in CI a first-party plugin that cannot be imported fails the run instead of skipping it.
authentication = require_plugin("byway_authentication.plugin")
teach = require_plugin("byway_teach.plugin")
teach_internal = require_plugin("byway_teach_internal.plugin")
students_internal = require_plugin("byway_students_internal.plugin")

CORE_PLUGINS = [authentication, teach, teach_internal, students_internal]
#: Cheap argon2 parameters (as in the authentication plugin's tests) so registering users is fast.
FAST_HASHING: dict[str, Any] = {"password_time_cost": 1, "password_memory_kib": 1024, "password_parallelism": 1}

REGISTER = """
mutation Register($email: String!, $password: String!) {
  register(email: $email, password: $password, firstName: "Test", lastName: "User") { token user { id } }
}"""
CREATE_PROFILE = 'mutation { createTeacherProfile(bio: "I teach", subjects: ["math"]) { id userId verified } }'
VERIFY_PROFILE = "mutation Verify($id: ID!) { verifyTeacherProfile(id: $id) { id verified } }"
CREATE_COURSE = """
mutation Create($title: String!, $price: Int!) {
  createCourse(title: $title, description: "d", priceCents: $price, currency: "USD") { id teacherId published }
}"""
PUBLISH = "mutation Publish($id: ID!) { updateCourse(id: $id, published: true) { id published } }"


@dataclass
class Actor:
    """A registered user with a token."""

    user_id: str
    token: str
    email: str


class World:
    """A running Byway with the four core plugins and helpers to create actors and courses."""

    def __init__(self, app: TestApp) -> None:
        self.app = app
        self._n = 0

    async def gql(self, plugin: str, query: str, variables: dict[str, Any] | None = None, token: str | None = None):
        return await self.app.gql(plugin, query, variables, token=token)

    async def user(self, name: str = "user") -> Actor:
        self._n += 1
        email = f"{name}{self._n}@example.com"
        body = await self.gql("authentication", REGISTER, {"email": email, "password": "correct horse battery"})
        assert "errors" not in body, body
        payload = body["data"]["register"]
        return Actor(payload["user"]["id"], payload["token"], email)

    async def admin(self) -> Actor:
        actor = await self.user("admin")
        return Actor(actor.user_id, self.app.token(actor.user_id, ("student", "admin")), actor.email)

    def service_token(self, plugin: str = "ecommerce") -> str:
        return self.app.host.tokens.service_token(plugin)

    async def teacher(self, *, verified: bool = True) -> tuple[Actor, str]:
        actor = await self.user("teacher")
        body = await self.gql("teach", CREATE_PROFILE, token=actor.token)
        assert "errors" not in body, body
        profile_id = body["data"]["createTeacherProfile"]["id"]
        if verified:
            admin = await self.admin()
            body = await self.gql("teach", VERIFY_PROFILE, {"id": profile_id}, token=admin.token)
            assert body["data"]["verifyTeacherProfile"]["verified"] is True, body
        return actor, profile_id

    async def course(self, teacher: Actor, *, price: int = 0, published: bool = True) -> str:
        body = await self.gql(
            "teach-internal", CREATE_COURSE, {"title": f"Course {price}", "price": price}, token=teacher.token
        )
        assert "errors" not in body, body
        course_id = body["data"]["createCourse"]["id"]
        if published:
            body = await self.gql("teach-internal", PUBLISH, {"id": course_id}, token=teacher.token)
            assert "errors" not in body, body
        return course_id


def fast_settings(settings: Settings) -> Settings:
    """``settings`` with cheap password hashing for the authentication plugin."""
    plugins = dict(settings.plugins)
    plugins["authentication"] = {**plugins.get("authentication", {}), **FAST_HASHING}
    return settings.with_overrides(plugins=plugins)


@asynccontextmanager
async def open_world(settings: Settings) -> AsyncIterator[World]:
    """A running app with the four core plugins (fast hashing), for fixtures of any scope."""
    async with running_app(CORE_PLUGINS, fast_settings(settings)) as app:
        yield World(app)


@pytest.fixture
async def world(byway_settings: Settings) -> AsyncIterator[World]:
    async with open_world(byway_settings) as w:
        yield w
