"""Tests of byway-hello, written with ``byway.testing`` as any plugin's tests are."""

from __future__ import annotations

from byway_hello import plugin

from byway.settings import Settings
from byway.testing import error_codes, running_app

GREET = "mutation Greet($name: String!) { greet(name: $name) { id name message authorId } }"
GREETINGS = "query Greetings($first: Int) { greetings(first: $first) { name message authorId } }"


async def test_hello_needs_no_login(byway_settings: Settings) -> None:
    async with running_app([plugin], byway_settings) as app:
        assert (await app.gql("hello", "{ hello }"))["data"] == {"hello": "Hello, world!"}
        body = await app.gql("hello", 'query { hello(name: "  Ada ") }')
        assert body["data"] == {"hello": "Hello, Ada!"}


async def test_greeting_word_is_configurable(byway_settings: Settings) -> None:
    settings = byway_settings.with_overrides(plugins={"hello": {"greeting": "Hi"}})
    async with running_app([plugin], settings) as app:
        assert (await app.gql("hello", '{ hello(name: "Bo") }'))["data"] == {"hello": "Hi, Bo!"}


async def test_greet_stores_a_greeting_by_the_caller(byway_settings: Settings, database_url: str) -> None:
    async with running_app([plugin], byway_settings.with_overrides(database_url=database_url)) as app:
        token = app.token("user-1")
        first = await app.gql("hello", GREET, {"name": "Ada"}, token=token)
        second = await app.gql("hello", GREET, {"name": "Grace"}, token=token)
        assert first["data"]["greet"]["message"] == "Hello, Ada!"
        assert first["data"]["greet"]["authorId"] == "user-1"
        assert len(first["data"]["greet"]["id"]) == 32
        assert first["data"]["greet"]["id"] != second["data"]["greet"]["id"]
        listed = await app.gql("hello", GREETINGS, {"first": 10})
        assert [g["name"] for g in listed["data"]["greetings"]] == ["Grace", "Ada"]
        assert (await app.gql("hello", GREETINGS, {"first": 1}))["data"]["greetings"][0]["name"] == "Grace"
        stats = await app.client.get("/api/hello/stats")
        assert stats.status_code == 200 and stats.json() == {"greetings": 2}


async def test_greet_requires_a_login(byway_settings: Settings) -> None:
    async with running_app([plugin], byway_settings) as app:
        body = await app.gql("hello", GREET, {"name": "Ada"})
        assert error_codes(body) == ["UNAUTHENTICATED"]
        assert (await app.client.get("/api/hello/stats")).json() == {"greetings": 0}


async def test_invalid_input_is_refused_with_the_field(byway_settings: Settings) -> None:
    async with running_app([plugin], byway_settings) as app:
        token = app.token("user-1")
        for name in ("   ", "x" * 101):
            body = await app.gql("hello", GREET, {"name": name}, token=token)
            assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "name"}
        for first in (0, -1, 101):
            body = await app.gql("hello", GREETINGS, {"first": first})
            assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "first"}


async def test_stats_refuses_a_bad_token(byway_settings: Settings) -> None:
    async with running_app([plugin], byway_settings) as app:
        response = await app.client.get("/api/hello/stats", headers={"Authorization": "Bearer forged"})
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
