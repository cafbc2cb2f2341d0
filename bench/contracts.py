"""How long the contract loop takes: `make generate` and `make lint breaking`.

Prints the median and spread of several runs of each, and the ratio of `make generate`
to its 3 s target. Run with `make bench`; figures, not a test (the machine is shared).
"""

from __future__ import annotations

import statistics
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 5
GENERATE_TARGET_S = 3.0


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


def _line(name: str, samples: list[float]) -> str:
    return (
        f"{name:<22} median {statistics.median(samples):6.2f} s   "
        f"min {min(samples):6.2f} s   max {max(samples):6.2f} s   ({RUNS} runs)"
    )


def main() -> None:
    subprocess.run(["make", "-s", "thirdparty"], cwd=ROOT, check=True, capture_output=True)
    protos = sorted((ROOT / "api/proto").rglob("*.proto"))
    print(f"contracts: {len(protos)} files under api/proto")
    generate = _time("generate")
    print(_line("make generate", generate))
    print(
        f"{'':<22} ratio to the {GENERATE_TARGET_S:.0f} s target: "
        f"{statistics.median(generate) / GENERATE_TARGET_S:.2f} (target <= 1.00)"
    )
    print(_line("make lint breaking", _time("lint", "breaking")))


if __name__ == "__main__":
    main()
