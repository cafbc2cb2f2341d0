"""gen/ts's dist/ (JavaScript and declarations), built before a test uses the package.

The package's `exports` name dist/, which is git-ignored and built by `make install`'s gen-ts
step; a test that compiles or runs against @acme/api builds it first
(`tsc -p gen/ts/tsconfig.build.json`), so it never sees a dist/ older than the generated
sources. Tests in parallel workers (pytest-xdist) build one at a time: a lock file in
.tools/ keeps one from reading a file another is writing.
"""

from __future__ import annotations

import fcntl
import subprocess
from pathlib import Path

__all__ = ["GEN_TS", "build_gen_ts"]

ROOT = Path(__file__).resolve().parents[1]
GEN_TS = ROOT / "gen" / "ts"
_LOCK = ROOT / ".tools" / "gen-ts-build.lock"


def build_gen_ts(tsc: Path) -> subprocess.CompletedProcess[str]:
    """Compiles gen/ts/src into gen/ts/dist with the pinned ``tsc``; its outcome."""
    _LOCK.parent.mkdir(parents=True, exist_ok=True)
    with _LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return subprocess.run(
            [str(tsc), "-p", str(GEN_TS / "tsconfig.build.json")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
