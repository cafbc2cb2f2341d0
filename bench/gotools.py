"""Go programs the benchmarks build from pinned modules of their own, into .tools/.

bench/grpcgateway (grpc-gateway: bench/rest.py's anchor contender) and bench/ghz (ghz:
bench/services.py's cross-check of the gRPC figures) are Go modules whose go.mod and go.sum
pin every version; `go build -mod=readonly` builds from them (Go's module cache, filled from
the module proxy the first time), into the git-ignored .tools/ folder. A build is redone
only when its inputs changed: their SHA-256 digest is kept beside the binaries, so an
up-to-date build costs a digest. Without Go, or when a build fails, the caller gets
`Unavailable` saying why, and prints "not available: <why>" instead of a figure.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from harness import ROOT

__all__ = ["TOOLS", "Stamp", "Unavailable", "go", "go_version", "pinned_version", "run"]

TOOLS = ROOT / ".tools"
BUILD_TIMEOUT_S = 900.0  # the first build downloads the modules


class Unavailable(Exception):
    """A Go program that cannot be had here (no Go, a failed build); the message says why."""


def go() -> str:
    """The `go` command on PATH."""
    found = shutil.which("go")
    if found is None:
        raise Unavailable("no `go` on PATH (the Go modules under bench/ need Go 1.26)")
    return found


def go_version() -> str:
    """`go1.26.8`, say."""
    done = subprocess.run(
        [go(), "env", "GOVERSION"], capture_output=True, text=True, check=False, timeout=60
    )
    return done.stdout.strip() or "go ?"


def pinned_version(go_mod: Path, module: str) -> str:
    """The version `go_mod` requires of `module` ("?" when it names none)."""
    found = re.search(rf"^\s*(?:require\s+)?{re.escape(module)} (v\S+)", go_mod.read_text(), re.M)
    return found[1] if found else "?"


def run(command: Sequence[str | Path], *, cwd: Path, what: str) -> str:
    """Run one build step; Unavailable with the end of its output when it fails."""
    try:
        done = subprocess.run(
            [str(part) for part in command],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
            timeout=BUILD_TIMEOUT_S,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Unavailable(f"{what} failed: {exc}") from exc
    if done.returncode != 0:
        output = (done.stderr or done.stdout).strip()[-1500:]
        raise Unavailable(f"{what} failed (exit {done.returncode}): {output}")
    return done.stdout


class Stamp:
    """The digest of a build's inputs, kept beside its outputs: fresh while both match."""

    def __init__(self, path: Path, inputs: Iterable[Path], *extra: str) -> None:
        digest = hashlib.sha256()
        for item in inputs:
            digest.update(str(item).encode() + b"\0" + item.read_bytes() + b"\0")
        for text in extra:
            digest.update(text.encode() + b"\0")
        self._path = path
        self._digest = digest.hexdigest()

    def fresh(self, *outputs: Path) -> bool:
        """True when the last build had these inputs and its outputs are still there."""
        if not (self._path.is_file() and all(output.is_file() for output in outputs)):
            return False
        return self._path.read_text().strip() == self._digest

    def write(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._path.write_text(self._digest + "\n")
