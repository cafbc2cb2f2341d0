"""How long a developer waits, from nothing: a fresh clone to a ready stack (`make up`,
install included), the fast tier `make check`, and the full `make test`.

Every run starts from a fresh clone of REF in a temporary folder:

- `up`: the clone, then `make up` until it prints that the stack is ready, with package
  caches of its own (uv, pip, Go, npm, Maven), empty, as on a new machine; the stack's
  ports are moved to free ones so that a running stack does not collide.
- `check`, `test`: the clone is installed first (not timed, with the machine's caches),
  then the target is timed once, from cold tool caches (mypy, pytest) as in CI.

    .venv/bin/python bench/workflow.py                      # up, check, test; 3 runs each
    .venv/bin/python bench/workflow.py --only up --repeat 5
    .venv/bin/python bench/workflow.py --ref 5c81234        # an older commit, for "before"

A REF whose Makefile has no `check` target is given the same work by hand (`make lint
style`, then pytest over tests/unit and tests/contracts without the slow ones), and the
output says so. Figures, not a test: the machine is shared, so run it quiet.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "platform"))

from servicekit.testing.ports import free_port  # noqa: E402

READY_LINE = "the stack is ready; Ctrl-C stops it"
TARGETS = {"up": 60.0, "check": 60.0, "test": 300.0}
UP_TIMEOUT_S = 600.0


def clone(ref: str, into: Path) -> Path:
    repo = into / "repo"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "checkout", "-q", ref], check=True)
    # REF is the clone's main (and origin's, as the clone sees it): `make breaking`, which
    # compares with main, judges REF as it did on its own main, not against today's.
    subprocess.run(["git", "-C", str(repo), "branch", "-f", "main", "HEAD"], check=True)
    for name in ("refs/remotes/origin/main", "refs/remotes/origin/HEAD"):
        subprocess.run(
            ["git", "-C", str(repo), "update-ref", "--no-deref", name, "HEAD"], check=True
        )
    return repo


def fresh_caches(folder: Path) -> dict[str, str]:
    """Package caches of this run only: what a new machine starts with."""
    caches = folder / "caches"
    return {
        "UV_CACHE_DIR": str(caches / "uv"),
        "PIP_CACHE_DIR": str(caches / "pip"),
        "GOMODCACHE": str(caches / "gomod"),
        "GOCACHE": str(caches / "gobuild"),
        "GOFLAGS": (os.environ.get("GOFLAGS", "") + " -modcacherw").strip(),
        "npm_config_cache": str(caches / "npm"),
        "MAVEN_OPTS": f"-Dmaven.repo.local={caches / 'm2'}",
    }


def stack_ports(repo: Path) -> dict[str, str]:
    user, auth = free_port(), free_port()
    return {
        "USER_GRPC__PORT": str(user),
        "USER_METRICS__PORT": str(free_port()),
        "AUTH_GRPC__PORT": str(auth),
        "AUTH_METRICS__PORT": str(free_port()),
        "AUTH_USER_CLIENT__TARGET": f"127.0.0.1:{user}",
        "GATEWAY_HTTP__PORT": str(free_port()),
        "GATEWAY_METRICS__PORT": str(free_port()),
        "GATEWAY_BACKENDS__USER__TARGET": f"127.0.0.1:{user}",
        "GATEWAY_BACKENDS__AUTH__TARGET": f"127.0.0.1:{auth}",
        "USER_DATABASE__URL": f"sqlite:///{repo / '.run' / 'user.db'}",
        "AUTH_DATABASE__URL": f"sqlite:///{repo / '.run' / 'auth.db'}",
    }


def time_up(ref: str, folder: Path) -> float:
    started = time.perf_counter()
    repo = clone(ref, folder)
    env = {**os.environ, **fresh_caches(folder), **stack_ports(repo)}
    log = folder / "up.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            ["make", "up"],
            cwd=repo,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        while READY_LINE not in log.read_text(errors="replace"):
            if process.poll() is not None or time.perf_counter() - started > UP_TIMEOUT_S:
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"make up did not get ready:\n{tail}")
            time.sleep(0.1)
        return time.perf_counter() - started
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def has_target(repo: Path, target: str) -> bool:
    makefile = (repo / "Makefile").read_text()
    return any(line.startswith(f"{target}:") for line in makefile.splitlines())


def time_target(target: str) -> Callable[[str, Path], float]:
    def measure(ref: str, folder: Path) -> float:
        repo = clone(ref, folder)
        subprocess.run(["make", "install"], cwd=repo, check=True, capture_output=True)
        if has_target(repo, target):
            commands = [["make", target]]
        else:  # an older commit: the same work by hand
            print(f"    ({ref} has no `make {target}`: lint, style, unit and contract tests)")
            commands = [
                ["make", "lint", "style"],
                [".venv/bin/pytest", "-q", "-m", "not slow", "tests/unit", "tests/contracts"],
            ]
        started = time.perf_counter()
        for command in commands:
            done = subprocess.run(command, cwd=repo, capture_output=True, check=False)
            if done.returncode != 0:
                tail = done.stdout.decode(errors="replace")[-3000:]
                raise RuntimeError(f"{' '.join(command)} failed in {repo}:\n{tail}")
        return time.perf_counter() - started

    return measure


MEASURES: dict[str, Callable[[str, Path], float]] = {
    "up": time_up,
    "check": time_target("check"),
    "test": time_target("test"),
}
NAMES = {"up": "fresh clone -> stack ready", "check": "make check", "test": "make test"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="HEAD", help="the commit to clone (default: HEAD)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="up,check,test", help="comma-separated: up,check,test")
    args = parser.parse_args()
    ref = subprocess.run(
        ["git", "rev-parse", "--short", args.ref],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(f"ref {ref}; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}")
    for what in args.only.split(","):
        samples = []
        for run in range(args.repeat):
            folder = Path(tempfile.mkdtemp(prefix=f"bench-{what}-"))
            try:
                samples.append(MEASURES[what](ref, folder))
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            print(f"  {NAMES[what]:<28} run {run + 1}: {samples[-1]:7.1f} s")
        median = statistics.median(samples)
        print(
            f"{NAMES[what]:<30} median {median:7.1f} s   min {min(samples):7.1f}   "
            f"max {max(samples):7.1f}   target {TARGETS[what]:.0f} s   "
            f"ratio {median / TARGETS[what]:.2f} (target <= 1.00)"
        )


if __name__ == "__main__":
    main()
