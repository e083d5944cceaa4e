"""Where the time of the course page goes: a profile of ``courses(first: 50) { … isEnrolled }``.

    python bench/profile_page.py [--requests 300] [--plain] [--cprofile] [--postgres URL]

Runs the page through the ASGI app (in-process transport, the bench's data) under pyinstrument
(default) or cProfile and prints the top entries; the summary in docs/performance.md comes from here.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import sys
import time

from run import PAGE, PAGE_ENROLLED, running_world


async def main(requests: int, plain: bool, use_cprofile: bool, database_url: str) -> None:
    query = PAGE if plain else PAGE_ENROLLED
    async with running_world(database_url, live=False) as world:
        for _ in range(50):
            await world.gql("teach-internal", query, {"n": 50})
        if use_cprofile:
            profiler = cProfile.Profile(time.process_time)  # CPU time: the machine is shared
            profiler.enable()
            for _ in range(requests):
                await world.gql("teach-internal", query, {"n": 50})
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(40)
            print(out.getvalue())
            return
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0002, async_mode="enabled", use_timing_thread=False)
        profiler.start()
        for _ in range(requests):
            await world.gql("teach-internal", query, {"n": 50})
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False, show_all=False, short_mode=False))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--plain", action="store_true", help="the page without isEnrolled")
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--postgres", default="", help="a database URL template with {plugin}")
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.plain, args.cprofile, args.postgres))
    sys.exit(0)
