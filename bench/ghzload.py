"""ghz, a cross-check of bench/grpcload's figures: the same load by another generator.

ghz (github.com/bojand/ghz, Go) is the common gRPC load tool; bench/services.py `--ghz`
loads R1's bare and full-chain servers with it too, in turns with grpcload, with the same
request, metadata, calls in flight and connections, so that grpcload's req/s can be read
against it. bench/ghz is a Go module of its own whose go.mod pins ghz by a `tool` line;
`build()` builds it into the git-ignored .tools/ghz/ (gotools: unless up to date) and
compiles the contracts to a protoset there (`buf build`: ghz reads the method from it, not
through reflection).

A run (`run_ghz`) has grpcload's shape: a LoadSpec in, a LoadResult out. ghz ends a timed
run by closing its connections, and reports each call still in flight then as UNAVAILABLE
("use of closed network connection", "the client connection is closing"): those count
as lost with their connection (as grpcload's), not as replies; any other status that is
not OK is an unexpected reply.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from gotools import TOOLS, Stamp, Unavailable, go, go_version, pinned_version, run
from grpcload import LoadResult, LoadSpec
from harness import ROOT, BenchError

from contractkit.buf import BufError, build_image
from contractkit.thirdparty import materialise

__all__ = ["build", "describe", "run_ghz"]

MODULE = Path(__file__).resolve().parent / "ghz"
OUT = TOOLS / "ghz"
BINARY = OUT / "bin" / "ghz"
PROTOSET = OUT / "contracts.binpb"
PACKAGE = "github.com/bojand/ghz/cmd/ghz"
CLOSED = ("use of closed network connection", "the client connection is closing")
"""What ghz reports for a call in flight when it closes its connections at the end."""


def build() -> Path:
    """ghz's binary (built unless up to date) and a fresh protoset; Unavailable if not."""
    command = go()
    stamp = Stamp(OUT / "built.sha256", [MODULE / "go.mod", MODULE / "go.sum"], go_version())
    if not stamp.fresh(BINARY):
        (OUT / "bin").mkdir(parents=True, exist_ok=True)
        run(
            [command, "build", "-mod=readonly", "-o", BINARY, PACKAGE],
            cwd=MODULE,
            what="go build ghz",
        )
        stamp.write()
    materialise(ROOT / ".thirdparty" / "proto")
    try:
        PROTOSET.write_bytes(build_image(ROOT))
    except BufError as exc:
        raise Unavailable(f"buf build (ghz's protoset) failed: {exc}") from exc
    return BINARY


def describe() -> str:
    return f"ghz {pinned_version(MODULE / 'go.mod', 'github.com/bojand/ghz')} ({go_version()})"


def _status_name(go_name: str) -> str:
    """grpc-go's `ResourceExhausted` -> grpcload's `RESOURCE_EXHAUSTED`."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", go_name).upper()


def _command(spec: LoadSpec, body: str) -> list[str]:
    call = spec.method.strip("/").replace("/", ".")
    command = [str(BINARY), "--insecure", "--protoset", str(PROTOSET), "--call", call]
    command += ["--binary-file", body, "--format", "json"]
    command += ["--concurrency", str(spec.concurrency), "--connections", str(spec.connections)]
    if spec.requests:
        command += ["--total", str(spec.requests)]
    else:
        command += ["--duration", f"{max(spec.duration, 0.1):.3f}s"]
    if spec.metadata:
        command += ["--metadata", json.dumps(dict(spec.metadata))]
    return [*command, spec.target]


def _result(report: dict[str, Any]) -> LoadResult:
    """grpcload's figures from ghz's JSON report."""
    codes = report.get("statusCodeDistribution") or {}
    statuses = {_status_name(name): int(count) for name, count in codes.items()}
    errors = report.get("errorDistribution") or {}
    lost = sum(int(n) for text, n in errors.items() if any(c in text for c in CLOSED))
    if lost:
        statuses["UNAVAILABLE"] = statuses.get("UNAVAILABLE", 0) - lost
    statuses = {name: count for name, count in statuses.items() if count}
    ok = statuses.get("OK", 0)
    elapsed = float(report.get("total") or 0) / 1e9  # nanoseconds
    quantiles = {
        int(entry["percentage"]): int(entry["latency"]) // 1000
        for entry in report.get("latencyDistribution") or []
    }
    completed = sum(statuses.values())
    return LoadResult(
        sent=completed + lost,
        completed=completed,
        ok=ok,
        statuses=statuses,
        lost=lost,
        unexpected=completed - ok,
        elapsed_s=elapsed,
        rps=completed / elapsed if elapsed else 0.0,
        p50_us=quantiles.get(50, 0),
        p90_us=quantiles.get(90, 0),
        p99_us=quantiles.get(99, 0),
        max_us=int(report.get("slowest") or 0) // 1000,
    )


def run_ghz(spec: LoadSpec, *, cpus: set[int] | None = None) -> LoadResult:
    """One ghz run of `spec` (pinned to `cpus` when given); its figures as grpcload's."""
    with tempfile.NamedTemporaryFile(prefix="ghz-", suffix=".bin") as body:
        body.write(spec.request)
        body.flush()
        done = subprocess.run(
            _command(spec, body.name),
            capture_output=True,
            text=True,
            check=False,
            preexec_fn=None if cpus is None else (lambda: os.sched_setaffinity(0, cpus)),
        )
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise BenchError(f"ghz failed ({done.returncode}): {done.stderr.strip()[-800:]}") from exc
    return _result(report)
