"""Running the buf CLI of the virtualenv."""

from __future__ import annotations

import os
import shutil
import subprocess  # runs the buf binary of the virtualenv, no shell  # nosec B404
import sys
from pathlib import Path

__all__ = ["BufError", "buf_executable", "build_image", "plugin_path", "run_buf"]

# The checkout this contractkit belongs to (an editable install: platform/contractkit).
_CHECKOUT = Path(__file__).resolve().parents[2]
# Where buf.gen.yaml's plugins live, by name: the virtualenv's (protoc-gen-mypy, the Python
# protoc) and the other languages' pinned tools (platform/tools, installed by `make install`).
_PLUGIN_DIRS = (".tools/bin", "platform/tools/npm/node_modules/.bin")


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


def plugin_path() -> str:
    """`PATH` with the plugins' folders first, as `make` sets it, so that buf finds them also
    when contractkit runs outside make (a test, a sandbox copy of the contracts)."""
    folders = [Path(sys.executable).parent, *(_CHECKOUT / d for d in _PLUGIN_DIRS)]
    found = [str(f) for f in folders if f.is_dir()]
    return os.pathsep.join([*found, os.environ.get("PATH", os.defpath)])


def run_buf(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """Runs `buf ARGS` in `cwd`, capturing its output; never raises on its exit code."""
    command = [buf_executable(), *args]  # the buf binary by its path, no shell
    env = {**os.environ, "PATH": plugin_path()}
    return subprocess.run(  # nosec B603
        command, cwd=cwd, capture_output=True, check=False, env=env
    )


def build_image(root: Path) -> bytes:
    """The workspace at `root` compiled to a FileDescriptorSet with source info."""
    result = run_buf("build", "-o", "-#format=binpb", cwd=root)
    if result.returncode != 0:
        raise BufError(result.stderr.decode(errors="replace").strip())
    return result.stdout
