"""The REST benchmark's load generators: wrk over HTTP, bench/grpcload over gRPC.

Both are closed-loop, pinned to the client's core, and check every reply: wrk through a
Lua script counting the replies that are not 200, grpcload through each grpc-status. A
load is a function of the seconds to run, returning (requests, seconds, p50 us, p99 us);
any bad reply or socket error raises BenchError.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from grpcload import LoadSpec, encode_request, run_load
from harness import BenchError

__all__ = ["CLIENT_CPUS", "WRK_SCRIPT", "Figures", "LoadRun", "grpc_load", "wrk_load"]

Figures = tuple[int, float, float, float]
"""Requests completed, seconds elapsed, p50 and p99 latency in microseconds."""
LoadRun = Callable[[float], Figures]

CLIENT_CPUS = {1}
GET_USER = "/acme.user.v1.UserService/GetUser"
WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) good = 0; bad = 0 end
function response(status, headers, body)
  if status == 200 then good = good + 1 else bad = bad + 1 end
end
function done(summary, latency, requests)
  local g, b = 0, 0
  for _, t in ipairs(threads) do g = g + t:get("good"); b = b + t:get("bad") end
  local e = summary.errors
  io.write(string.format('RESULT {"requests": %d, "duration_us": %d, "good": %d, ' ..
    '"bad": %d, "connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, ' ..
    '"p50_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, g, b, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99)))
end
"""


def _pin_client() -> None:
    os.sched_setaffinity(0, CLIENT_CPUS)


def wrk_load(url: str, token: str, connections: int, script: Path) -> LoadRun:
    """A closed-loop wrk run (one thread, `connections` requests in flight)."""

    def run(seconds: float) -> Figures:
        command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, math.ceil(seconds))}s"]
        command += ["--timeout", "10s", "-s", str(script)]
        command += ["-H", f"Authorization: Bearer {token}", url]
        done = subprocess.run(
            command, capture_output=True, text=True, check=False, preexec_fn=_pin_client
        )
        line = next((ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")), "")
        if done.returncode != 0 or not line:
            raise BenchError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
        figures = json.loads(line.removeprefix("RESULT "))
        errors = {k: figures[k] for k in ("bad", "connect", "read", "write", "timeout")}
        if any(errors.values()) or figures["good"] == 0:
            raise BenchError(f"{url}: non-200 replies or socket errors: {errors}")
        elapsed = figures["duration_us"] / 1e6
        return figures["requests"], elapsed, figures["p50_us"], figures["p99_us"]

    return run


def grpc_load(target: str, user_id: str, token: str, concurrency: int, connections: int) -> LoadRun:
    """A closed-loop bench/grpcload run checking every grpc-status."""

    def run(seconds: float) -> Figures:
        spec = LoadSpec(
            target=target,
            method=GET_USER,
            request=encode_request(GET_USER, f'id: "{user_id}"'),
            connections=connections,
            concurrency=concurrency,
            duration=seconds,
            metadata=(("authorization", f"Bearer {token}"),),
        )
        result = run_load(spec, cpus=CLIENT_CPUS)
        if result.unexpected or result.lost or result.ok == 0:
            raise BenchError(f"gRPC: unexpected replies {result.failures}, lost {result.lost}")
        return result.completed, result.elapsed_s, result.p50_us, result.p99_us

    return run
