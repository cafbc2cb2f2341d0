"""Running the buf CLI of the virtualenv."""

from __future__ import annotations

import shutil
import subprocess  # runs the buf binary of the virtualenv, no shell  # nosec B404
import sys
from pathlib import Path

__all__ = ["BufError", "buf_executable", "build_image", "run_buf"]


class BufError(Exception):
    """buf failed in a way that is not a finding (bad configuration, compile error)."""


def buf_executable() -> str:
    """The buf binary next to this interpreter (the lock file pins it), else on PATH."""
    beside = Path(sys.executable).with_name("buf")
    if beside.exists():
        return str(beside)
    found = shutil.which("buf")
    if found is None:
        raise BufError("buf is not installed: run `make install`")
    return found


def run_buf(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """Runs `buf ARGS` in `cwd`, capturing its output; never raises on its exit code."""
    command = [buf_executable(), *args]  # the buf binary by its path, no shell
    return subprocess.run(command, cwd=cwd, capture_output=True, check=False)  # nosec B603


def build_image(root: Path) -> bytes:
    """The workspace at `root` compiled to a FileDescriptorSet with source info."""
    result = run_buf("build", "-o", "-#format=binpb", cwd=root)
    if result.returncode != 0:
        raise BufError(result.stderr.decode(errors="replace").strip())
    return result.stdout
