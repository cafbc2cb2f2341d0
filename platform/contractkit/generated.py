"""`make check-generated`: is every derived file what the contracts generate today?

The contracts are generated into a scratch copy of the output folders and compared
file by file with the working tree, so a stale, missing or extra (hand-added) file is
named, and the working tree is never touched.
"""

from __future__ import annotations

import filecmp
import shutil
import tempfile
from pathlib import Path

from contractkit.buf import BufError, run_buf

__all__ = ["GENERATED_DIRS", "generate_into", "stale_files"]

GENERATED_DIRS = ("gen/python", "api/openapi")


def _files(folder: Path) -> set[str]:
    if not folder.is_dir():
        return set()
    return {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def generate_into(root: Path, scratch: Path) -> None:
    """Generates the contracts of `root` into `scratch` (same layout), leaving `root`
    as it is."""
    for name in ("buf.yaml", "buf.gen.yaml"):
        shutil.copy2(root / name, scratch / name)
    for name in ("api/proto", ".thirdparty/proto"):
        shutil.copytree(root / name, scratch / name)
    result = run_buf("generate", cwd=scratch)
    if result.returncode != 0:
        raise BufError(result.stderr.decode(errors="replace").strip())


def stale_files(root: Path) -> list[str]:
    """`path: reason` for every generated file that differs from a fresh generation."""
    with tempfile.TemporaryDirectory(prefix="generated-") as tmp:
        scratch = Path(tmp)
        generate_into(root, scratch)
        problems: list[str] = []
        for folder in GENERATED_DIRS:
            fresh, current = scratch / folder, root / folder
            want, have = _files(fresh), _files(current)
            problems += [f"{folder}/{f}: missing (run `make generate`)" for f in want - have]
            problems += [
                f"{folder}/{f}: not generated from the contracts (delete it or run `make generate`)"
                for f in have - want
            ]
            problems += [
                f"{folder}/{f}: stale (run `make generate`)"
                for f in want & have
                if not filecmp.cmp(fresh / f, current / f, shallow=False)
            ]
        return sorted(problems)
