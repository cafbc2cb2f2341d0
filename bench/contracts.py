"""How long the contract loop takes: `make generate`, `make lint breaking`, and two steps
inside them that the tests only check for behaviour (the machine is shared).

Prints the median and spread of several runs of each, and the ratio to its target of
`make generate` (3 s), of a no-op `materialise` of the third-party protos (0.5 s: every
`make` target runs it first) and of one OpenAPI generation on the real contracts (0.5 s).
Run with `make bench`; figures, not a test.
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from google.protobuf.compiler import plugin_pb2

from contractkit.buf import build_image
from contractkit.descriptors import load_image
from contractkit.plugins.openapi import generate
from contractkit.thirdparty import materialise

ROOT = Path(__file__).resolve().parents[1]
PROTO_ROOT = ROOT / "api/proto"
RUNS = 5
GENERATE_TARGET_S = 3.0
NOOP_MATERIALISE_TARGET_S = 0.5
OPENAPI_TARGET_S = 0.5
# The `opt:` of protoc-gen-openapi in buf.gen.yaml.
OPENAPI_PARAMETER = "file=acme.openapi.yaml,title=Acme Platform API,version=v1"


def _time(*targets: str) -> list[float]:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(
            ["make", "--no-print-directory", "-s", *targets],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        samples.append(time.perf_counter() - start)
    return samples


def _time_calls(call: Callable[[], None]) -> list[float]:
    """`call` run in this process after one warm-up run (imports, first writes)."""
    call()
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def _line(name: str, samples: list[float]) -> str:
    return (
        f"{name:<22} median {statistics.median(samples):6.3f} s   "
        f"min {min(samples):6.3f} s   max {max(samples):6.3f} s   ({RUNS} runs)"
    )


def _ratio(samples: list[float], target_s: float) -> str:
    return (
        f"{'':<22} ratio to the {target_s:g} s target: "
        f"{statistics.median(samples) / target_s:.2f} (target <= 1.00)"
    )


def _noop_materialise(dest: Path) -> Callable[[], None]:
    """`materialise` into `dest`, filled first, so that every run has nothing to write."""
    materialise(dest)

    def run() -> None:
        if written := materialise(dest):
            raise SystemExit(f"materialise rewrote {len(written)} file(s): not a no-op")

    return run


def _openapi_request() -> plugin_pb2.CodeGeneratorRequest:
    """The request buf sends protoc-gen-openapi in `make generate` (the contracts' files)."""
    files = load_image(build_image(ROOT))
    own = {p.relative_to(PROTO_ROOT).as_posix() for p in PROTO_ROOT.rglob("*.proto")}
    return plugin_pb2.CodeGeneratorRequest(
        file_to_generate=[f.name for f in files if f.name in own],
        proto_file=files,
        parameter=OPENAPI_PARAMETER,
    )


def _one_generation(request: plugin_pb2.CodeGeneratorRequest) -> Callable[[], None]:
    def run() -> None:
        response = generate(request)
        if response.error or len(response.file) != 1:
            raise SystemExit(f"protoc-gen-openapi wrote no document: {response.error}")

    return run


def main() -> None:
    subprocess.run(["make", "-s", "thirdparty"], cwd=ROOT, check=True, capture_output=True)
    protos = sorted(PROTO_ROOT.rglob("*.proto"))
    print(f"contracts: {len(protos)} files under api/proto")
    generate_runs = _time("generate")
    print(_line("make generate", generate_runs))
    print(_ratio(generate_runs, GENERATE_TARGET_S))
    print(_line("make lint breaking", _time("lint", "breaking")))
    with tempfile.TemporaryDirectory() as scratch:
        noop = _time_calls(_noop_materialise(Path(scratch)))
    print(_line("no-op materialise", noop))
    print(_ratio(noop, NOOP_MATERIALISE_TARGET_S))
    openapi = _time_calls(_one_generation(_openapi_request()))
    print(_line("one OpenAPI generation", openapi))
    print(_ratio(openapi, OPENAPI_TARGET_S))


if __name__ == "__main__":
    main()
