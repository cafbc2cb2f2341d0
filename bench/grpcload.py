"""A gRPC load generator that checks the status of every reply.

h2load counts any HTTP 200 as a success, but a failed gRPC call is an HTTP 200 with a
non-zero `grpc-status`. A Python client (grpc futures or grpc.aio) spends 85-100 us of
CPU per call here, about as much as the grpcio server it is meant to saturate, so the
work is done by `grpcload.c` (libnghttp2, about 14 us a call); this module builds it
into `bench/build/` (ignored by git through the `build/` pattern), encodes the request
message and runs it.

    python bench/grpcload.py 127.0.0.1:50051 /acme.user.v1.UserService/GetUser \\
        --request 'id: "7d2b4a3e-1c5f-4d6a-9e8b-2f1a3c4d5e6f"' --duration 5 \\
        --header 'authorization: Bearer ...'

Exits 1 when any reply has a status outside `--expect` (default OK) or none at all.
Needs `gcc` and the libnghttp2 headers (Debian: `apt-get install libnghttp2-dev`).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from google.protobuf import descriptor_pool, message_factory, text_format

__all__ = ["LoadResult", "LoadSpec", "build", "encode_request", "main", "run_load"]

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "grpcload.c"
BINARY = HERE / "build" / "grpcload"


@dataclass(frozen=True, kw_only=True, slots=True)
class LoadSpec:
    """One closed-loop run: `concurrency` calls in flight over `connections` connections."""

    target: str
    method: str
    request: bytes
    connections: int = 16
    concurrency: int = 64
    duration: float = 5.0
    requests: int = 0
    metadata: tuple[tuple[str, str], ...] = ()
    expect: tuple[int, ...] = (0,)


@dataclass(frozen=True, kw_only=True, slots=True)
class LoadResult:
    """What the generator saw; `statuses` counts replies by status name (OK included)."""

    sent: int
    completed: int
    ok: int
    statuses: dict[str, int] = field(default_factory=dict)
    no_status: int = 0
    lost: int = 0
    unexpected: int = 0
    elapsed_s: float = 0.0
    rps: float = 0.0
    p50_us: int = 0
    p90_us: int = 0
    p99_us: int = 0
    max_us: int = 0

    @property
    def failures(self) -> dict[str, int]:
        """Every reply that is not OK, by status, plus replies with no status at all."""
        counts = {name: n for name, n in self.statuses.items() if name != "OK"}
        if self.no_status:
            counts["no grpc-status"] = self.no_status
        if self.lost:
            counts["lost (connection closed)"] = self.lost
        return counts


def build() -> Path:
    """Compile the C generator unless an up-to-date binary exists; return its path."""
    if BINARY.exists() and BINARY.stat().st_mtime >= SOURCE.stat().st_mtime:
        return BINARY
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise SystemExit("grpcload: no C compiler (cc) on PATH")
    BINARY.parent.mkdir(parents=True, exist_ok=True)
    command = [compiler, "-O2", "-Wall", "-o", str(BINARY), str(SOURCE), "-lnghttp2"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        hint = "install the libnghttp2 headers: apt-get install -y libnghttp2-dev"
        raise SystemExit(f"grpcload: build failed ({hint}):\n{done.stderr}")
    return BINARY


def _request_class(method: str) -> type:
    """The request message class of `/pkg.Service/Method`, from the generated stubs."""
    service, _, name = method.strip("/").partition("/")
    package = service.rpartition(".")[0]
    module = importlib.import_module(package)
    for info in pkgutil.iter_modules(module.__path__):
        if info.name.endswith("_pb2"):
            importlib.import_module(f"{package}.{info.name}")
    pool = descriptor_pool.Default()
    descriptor = pool.FindMethodByName(f"{service}.{name}").input_type
    return message_factory.GetMessageClass(descriptor)


def encode_request(method: str, text: str) -> bytes:
    """Serialize a request given in protobuf text format (`id: "..."`)."""
    message = _request_class(method)()
    text_format.Parse(text, message)
    return message.SerializeToString()


def _command(spec: LoadSpec, body_file: str) -> list[str]:
    host, _, port = spec.target.rpartition(":")
    command = [str(build()), "--host", host, "--port", port, "--path", spec.method]
    command += ["--body", body_file, "--json", "--expect", ",".join(map(str, spec.expect))]
    command += ["--connections", str(spec.connections), "--concurrency", str(spec.concurrency)]
    if spec.requests:
        command += ["--requests", str(spec.requests)]
    else:
        command += ["--duration", str(spec.duration)]
    for name, value in spec.metadata:
        command += ["--header", f"{name}: {value}"]
    return command


def run_load(spec: LoadSpec, *, cpus: set[int] | None = None) -> LoadResult:
    """Run the generator (pinned to `cpus` when given) and return its figures.

    Unexpected statuses are reported in the result, not raised: the caller decides.
    """
    with tempfile.NamedTemporaryFile(prefix="grpcload-", suffix=".bin") as body:
        body.write(spec.request)
        body.flush()
        process = subprocess.Popen(_command(spec, body.name), stdout=subprocess.PIPE, text=True)
        if cpus is not None:
            os.sched_setaffinity(process.pid, cpus)
        out, _ = process.communicate()
    if process.returncode not in (0, 1):
        raise RuntimeError(f"grpcload failed with exit code {process.returncode}")
    return LoadResult(**{k: v for k, v in json.loads(out).items() if k in _RESULT_FIELDS})


_RESULT_FIELDS = set(LoadResult.__dataclass_fields__)


def describe(result: LoadResult) -> str:
    """A short human summary of one run."""
    lines = [
        f"sent {result.sent}  completed {result.completed}  OK {result.ok}  "
        f"in {result.elapsed_s:.2f} s: {result.rps:.0f} req/s",
        f"latency p50 {result.p50_us} us  p90 {result.p90_us} us  p99 {result.p99_us} us  "
        f"max {result.max_us} us",
    ]
    lines += [f"{name:<24} {count}" for name, count in result.failures.items()]
    lines.append(f"unexpected replies: {result.unexpected}")
    return "\n".join(lines)


def _status_code(text: str) -> int:
    if text.isdigit():
        return int(text)
    return int(grpc.StatusCode[text.upper()].value[0])


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected 'name: value', got {text!r}")
    return name.strip().lower(), value.strip()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", help="host:port")
    parser.add_argument("method", help="/package.Service/Method")
    parser.add_argument("--request", default="", help="request message in protobuf text format")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--concurrency", type=int, default=64, help="calls in flight")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of load")
    parser.add_argument("--requests", type=int, default=0, help="a count instead of a duration")
    parser.add_argument("--header", type=_header, action="append", default=[])
    parser.add_argument("--expect", default="OK", help="accepted statuses: OK,NOT_FOUND or 0,5")
    parser.add_argument("--cpu", type=int, action="append", help="pin the generator to a core")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    spec = LoadSpec(
        target=args.target,
        method=args.method,
        request=encode_request(args.method, args.request),
        connections=args.connections,
        concurrency=args.concurrency,
        duration=args.duration,
        requests=args.requests,
        metadata=tuple(args.header),
        expect=tuple(_status_code(s) for s in args.expect.split(",")),
    )
    result = run_load(spec, cpus=set(args.cpu) if args.cpu else None)
    if args.json:
        print(json.dumps({s: getattr(result, s) for s in LoadResult.__slots__}))
    else:
        print(describe(result))
    return 1 if result.unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
