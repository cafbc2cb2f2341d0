"""`make install`'s virtualenv step (platform/tools/python/venv.sh): the wrong Python is
refused before anything is installed, and a virtualenv made by another interpreter is
rebuilt with one line saying so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_SH = ROOT / "platform" / "tools" / "python" / "venv.sh"


def fake_python(folder: Path, prints: str) -> Path:
    """An interpreter that answers every question with ``prints``."""
    program = folder / "python-fake"
    program.write_text(f"#!/bin/sh\necho '{prints}'\n")
    program.chmod(0o755)
    return program


def venv_sh(venv: Path, python: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_SH), str(venv), python],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_another_python_version_is_refused_before_anything_is_installed(tmp_path: Path) -> None:
    venv = tmp_path / "venv"

    done = venv_sh(venv, str(fake_python(tmp_path, "3.12")))

    assert done.returncode == 1
    first = done.stderr.splitlines()[0]
    assert first.startswith("make install: Python 3.11 is needed")
    assert "is 3.12" in first
    assert not venv.exists()


def test_a_missing_python_is_named(tmp_path: Path) -> None:
    done = venv_sh(tmp_path / "venv", "python3.11-not-here")

    assert done.returncode == 1
    assert "there is no 'python3.11-not-here' on PATH" in done.stderr


@pytest.mark.slow
def test_a_virtualenv_of_another_interpreter_is_rebuilt_saying_so(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    fake_python(tmp_path, "3.10.13 /opt/elsewhere").rename(venv / "bin" / "python")
    # The base interpreter of the test's own virtualenv: the project's Python.
    python = str(Path(sys.base_prefix) / "bin" / "python3")
    assert os.access(python, os.X_OK)

    done = venv_sh(venv, python)

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == (
        f"make install: {venv} was made by Python 3.10.13 /opt/elsewhere, "
        f"not {sys.version.split()[0]} {sys.base_prefix}: rebuilding it"
    )
    rebuilt = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import servicekit, grpc; print(grpc.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert rebuilt.stdout.strip() == "1.85.1"  # the lock's grpcio
