"""Benchmark the cross-plugin client: in-process vs HTTP, and the cached vs uncached document path.

Prints a JSON report. Ratios are measured in one run (shared machines are noisy).

    python bench/client_transports.py [--calls 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from ariadne import QueryType
from graphql import graphql as uncached_graphql

import byway
from byway.app import create_app
from byway.auth import ANONYMOUS_PRINCIPAL
from byway.context import RequestContext
from byway.declarations import GraphQLApi, PluginInfo
from byway.testing import free_port, host_of, live_server, make_settings, serve_app

QUERY = "query Echo($n: Int!) { echo(n: $n) whoami }"


class EchoPlugin:
    """A plugin with no database: what is measured is the call path, not storage."""

    query = QueryType()

    @staticmethod
    @query.field("echo")
    def resolve_echo(_: Any, info: Any, n: int) -> int:
        return n

    @staticmethod
    @query.field("whoami")
    def resolve_whoami(_: Any, info: Any) -> str:
        ctx: RequestContext = info.context
        return ctx.principal.kind

    @byway.hookimpl
    def byway_register_plugin(self) -> PluginInfo:
        return PluginInfo(name="echo")

    @byway.hookimpl
    def byway_register_schema(self) -> GraphQLApi:
        return GraphQLApi("type Query { echo(n: Int!): Int! whoami: String! }", [self.query])


async def timed(label: str, calls: int, func: Any) -> dict[str, Any]:
    for i in range(min(50, calls)):  # warm-up: caches, connections
        await func(i)
    samples = []
    for i in range(calls):
        start = time.perf_counter()
        await func(i)
        samples.append(time.perf_counter() - start)
    return {
        "case": label,
        "calls": calls,
        "mean_us": round(statistics.fmean(samples) * 1e6, 1),
        "p50_us": round(statistics.median(samples) * 1e6, 1),
        "p95_us": round(sorted(samples)[int(len(samples) * 0.95) - 1] * 1e6, 1),
    }


async def main(calls: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(Path(tmp))
        app = create_app(settings, [EchoPlugin()])
        host = host_of(app)
        results = []
        async with serve_app(app):
            client = host.plugins["echo"].client
            executor = host.plugins["echo"].executor
            assert executor is not None

            async def inprocess(i: int) -> None:
                data = await client.call("echo", QUERY, {"n": i}, as_="service")
                assert data["echo"] == i

            async def uncached(i: int) -> None:
                # What a call would cost if every call parsed and validated the document again.
                context = RequestContext(host.plugins["echo"], ANONYMOUS_PRINCIPAL)
                result = await uncached_graphql(executor.schema, QUERY, variable_values={"n": i}, context_value=context)
                assert result.data is not None and result.data["echo"] == i

            results.append(await timed("inprocess_client_call", calls, inprocess))
            results.append(await timed("graphql_core_uncached_execute", calls, uncached))

        port = free_port()
        http_settings = settings.with_overrides(transport="http", self_url=f"http://127.0.0.1:{port}")
        port_app = create_app(http_settings, [EchoPlugin()])
        async with live_server(port_app, port) as base_url:
            port_client = host_of(port_app).plugins["echo"].client

            async def over_http(i: int) -> None:
                data = await port_client.call("echo", QUERY, {"n": i}, as_="service")
                assert data["echo"] == i

            async with httpx.AsyncClient(base_url=base_url) as raw:

                async def raw_http(i: int) -> None:
                    response = await raw.post("/api/echo/graphql", json={"query": QUERY, "variables": {"n": i}})
                    assert response.json()["data"]["echo"] == i

                results.append(await timed("http_client_call", max(calls // 4, 50), over_http))
                results.append(await timed("http_raw_post", max(calls // 4, 50), raw_http))

    by_case = {r["case"]: r for r in results}
    base = by_case["inprocess_client_call"]["mean_us"]
    return {
        "benchmark": "client_transports",
        "python": sys.version.split()[0],
        "results": results,
        "ratios": {
            "uncached_over_inprocess": round(by_case["graphql_core_uncached_execute"]["mean_us"] / base, 2),
            "http_over_inprocess": round(by_case["http_client_call"]["mean_us"] / base, 2),
        },
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.calls)), indent=2))
