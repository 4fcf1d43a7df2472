"""CPU time per request in process (`python -m bench.api --cpu`): the bench's endpoints
through Django's test client, for returning users, on the bench database.

The server's throughput on 2 shared cores swings with the machine's load; the CPU time a
request costs in this process (`time.process_time`, DEBUG off so no query log) does much
less, and it is what the API's code decides. Each pass makes one request per workspace of
`--cpu-workspaces` owners (each made one request before, so none writes activity); the
table shows each endpoint's fastest and median pass over `--cpu-passes`, per request, and
the fastest as a multiple of the bare view's: on shared cores another process's burst
slows a pass down (the CPU clock counts cycles that cache misses and a busy sibling core
stretch), never speeds it up. The POSTs'
requests and audit records are deleted between passes, outside the timing.
`--cpu-profile NAME` prints cProfile's top functions of that endpoint instead.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable


def run(pool: list[dict], reset: Callable[[], None], passes: int, profile: str | None) -> None:
    """`reset()` deletes the requests and audit records the POSTs created."""
    import django

    django.setup()
    from django.test import Client

    client = Client()
    body = json.dumps({"reason": "too_expensive"})

    def calls(entry: dict) -> dict:
        auth = {"HTTP_AUTHORIZATION": f"Token {entry['token']}"}
        slug = entry["slug"]
        return {
            "bare view": lambda: client.get(f"/bench/bare/{entry['pk']}/"),
            "API floor": lambda: client.get(f"/bench/floor/{entry['pk']}/", **auth),
            "quote GET": lambda: client.get(f"/api/workspaces/{slug}/cancellation/quote/", **auth),
            "cancellation POST": lambda: client.post(
                f"/api/workspaces/{slug}/cancellations/",
                body,
                content_type="application/json",
                **auth,
            ),
        }

    requests = [calls(entry) for entry in pool]
    for call in requests:  # returning users; warm the compiled queries and connection
        for one in call.values():
            one()
    reset()

    def one_pass(name: str) -> float:
        started = time.process_time()
        for call in requests:
            status = call[name]().status_code
            if status >= 300:
                raise SystemExit(f"{name}: status {status}")
        elapsed = time.process_time() - started
        reset()
        return elapsed / len(requests)

    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile(time.process_time)  # CPU, not waiting on the database
        profiler.enable()
        for _ in range(passes):
            for call in requests:
                call[profile]()
            profiler.disable()
            reset()
            profiler.enable()
        profiler.disable()
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(40)
        if os.environ.get("BENCH_PROFILE_DUMP"):  # for pstats' browser or snakeviz
            stats.dump_stats(os.environ["BENCH_PROFILE_DUMP"])
        return
    names = list(requests[0])
    timings: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(passes):  # interleaved, so a burst of load is shared by every endpoint
        for name in names:
            timings[name].append(one_pass(name))
    print(f"CPU per request in process, {passes} passes over {len(pool)} workspaces")
    print(f"{'endpoint':<18} {'fastest':>8} {'median':>8} {'x bare':>7}")
    bare = min(timings["bare view"])
    for name in names:
        fastest, median = min(timings[name]), statistics.median(timings[name])
        print(f"{name:<18} {fastest * 1000:5.2f} ms {median * 1000:5.2f} ms {fastest / bare:7.2f}")
