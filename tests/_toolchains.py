"""Running the other languages' tools from a test: a toolchain that is not installed skips
the test naming its tier ("Go toolchain tier: go is not installed"; with CI=true
tests/conftest.py makes that a failure), and a command's outcome is shown whole."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

__all__ = ["NOT_DOWNLOADED", "ROOT", "output", "program", "run"]

ROOT = Path(__file__).resolve().parents[1]
# Maven's words for an artifact that offline mode cannot get.
NOT_DOWNLOADED = ("offline mode", "has not been downloaded", "Could not resolve dependencies")


def run(
    command: list[str],
    cwd: Path = ROOT,
    environ: Mapping[str, str] | None = None,
    /,
    **env: str,
) -> subprocess.CompletedProcess[str]:
    """``command`` in ``cwd`` with ``env`` added to ``environ`` (default: this process's
    variables); its outcome."""
    return subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        env={**(os.environ if environ is None else environ), **env},
    )


def output(done: subprocess.CompletedProcess[str]) -> str:
    """A finished command as a failure shows it: the command, its exit code and output."""
    command = " ".join(map(str, done.args))
    return f"$ {command}\nexit {done.returncode}\n{done.stdout}\n{done.stderr}"


def program(name: str, tier: str) -> str:
    """The path of ``name``, or a skip naming ``tier`` when it is not installed."""
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{tier} toolchain tier: {name} is not installed")
    return found
