"""`make generate` and `make check-generated`: the derived files, and whether each is what
the contracts generate today.

The contracts are always generated into a scratch copy of the output folders and compared
file by file with the working tree. `check-generated` names each stale, missing or extra
(hand-added) file and touches nothing; `generate` then brings the working tree in line,
writing only the files whose content changed (each replaced at once, never half-written),
so that a running stack, a file watcher or a parallel test never sees a generated folder
emptied and refilled, and an unchanged file keeps its modification time.

Every language is generated from the same inputs, third-party protos included; only the
folders of :data:`GENERATED_DIRS` are kept. A language's output for google.api, google.rpc
or buf.validate is dropped where its ecosystem publishes a package for them, and the
hand-written module files beside the generated code (gen/go/go.mod, gen/ts/package.json,
gen/java/pom.xml, ...) are never compared nor touched.
"""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from contractkit.buf import BufError, run_buf

__all__ = ["GENERATED_DIRS", "Differences", "generate", "generate_into", "stale_files"]

GENERATED_DIRS = (
    # Python: google.api and google.rpc come from googleapis-common-protos; buf.validate has
    # no package for the standard protobuf runtime.
    "gen/python/acme",
    "gen/python/buf",
    # Go (module gen/go/go.mod): google.* from genproto, buf.validate from buf.build/gen/go.
    "gen/go/acme",
    # TypeScript (package gen/ts/package.json): buf.validate from @bufbuild/protovalidate; no
    # package has google.api or google.rpc for protobuf-es v2.
    "gen/ts/src/acme",
    "gen/ts/src/google",
    # Java (module gen/java/pom.xml): google.* from proto-google-common-protos, buf.validate
    # from build.buf:protovalidate.
    "gen/java/src/main/java/com/acme",
    "api/openapi",
)


def _files(folder: Path) -> set[str]:
    if not folder.is_dir():
        return set()
    return {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def generate_into(root: Path, scratch: Path, only: Sequence[str] | None = None) -> None:
    """Generates the contracts of `root` into `scratch` (same layout), leaving `root`
    as it is. `only` (output folders, e.g. ``["api/openapi"]``) runs just the plugins of
    buf.gen.yaml that write there, with their options as buf.gen.yaml states them."""
    shutil.copy2(root / "buf.yaml", scratch / "buf.yaml")
    template = (root / "buf.gen.yaml").read_text(encoding="utf-8")
    if only is not None:
        template = _template_for(template, only)
    (scratch / "buf.gen.yaml").write_text(template, encoding="utf-8")
    for name in ("api/proto", ".thirdparty/proto"):
        shutil.copytree(root / name, scratch / name)
    result = run_buf("generate", cwd=scratch)
    if result.returncode != 0:
        raise BufError(result.stderr.decode(errors="replace").strip())


def _template_for(template: str, only: Sequence[str]) -> str:
    """`template` (buf.gen.yaml) with only the plugins whose `out` is one of `only`."""
    config = yaml.safe_load(template)
    config["plugins"] = [p for p in config["plugins"] if p["out"] in only]
    if not config["plugins"]:
        raise BufError(f"buf.gen.yaml has no plugin writing to {', '.join(only)}")
    return json.dumps(config)


@dataclass
class Differences:
    """What differs between a fresh generation and the working tree, as repo paths."""

    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)


def _folders(only: Sequence[str] | None) -> list[str]:
    """The generated folders of the outputs `only` names (all of them for None)."""
    if only is None:
        return list(GENERATED_DIRS)
    return [f for f in GENERATED_DIRS if any(f == o or f.startswith(f"{o}/") for o in only)]


def _differences(fresh_root: Path, root: Path, only: Sequence[str] | None = None) -> Differences:
    found = Differences()
    for folder in _folders(only):
        fresh, current = fresh_root / folder, root / folder
        want, have = _files(fresh), _files(current)
        found.missing += [f"{folder}/{f}" for f in sorted(want - have)]
        found.extra += [f"{folder}/{f}" for f in sorted(have - want)]
        found.stale += [
            f"{folder}/{f}"
            for f in sorted(want & have)
            if not filecmp.cmp(fresh / f, current / f, shallow=False)
        ]
    return found


def stale_files(root: Path) -> list[str]:
    """`path: reason` for every generated file that differs from a fresh generation."""
    with tempfile.TemporaryDirectory(prefix="generated-") as tmp:
        scratch = Path(tmp)
        generate_into(root, scratch)
        found = _differences(scratch, root)
    problems = [f"{f}: missing (run `make generate`)" for f in found.missing]
    problems += [
        f"{f}: not generated from the contracts (delete it or run `make generate`)"
        for f in found.extra
    ]
    problems += [f"{f}: stale (run `make generate`)" for f in found.stale]
    return sorted(problems)


def generate(root: Path, only: Sequence[str] | None = None) -> Differences:
    """Regenerate the derived files of `root` in place; return what was written or removed.

    `only` (output folders of buf.gen.yaml, e.g. ``["gen/python", "api/openapi"]``) limits
    it to those outputs: the running stack needs no other language's plugins."""
    with tempfile.TemporaryDirectory(prefix="generated-") as tmp:
        scratch = Path(tmp)
        generate_into(root, scratch, only)
        found = _differences(scratch, root, only)
        for name in found.missing + found.stale:
            _replace(scratch / name, root / name)
    for name in found.extra:
        (root / name).unlink()
        _remove_empty_parents(root / name, root)
    return found


def _replace(source: Path, target: Path) -> None:
    """Put `source`'s content at `target` in one step: readers see the old or the new file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.generating")
    shutil.copyfile(source, staged)
    os.replace(staged, target)


def _remove_empty_parents(path: Path, root: Path) -> None:
    folder = path.parent
    while folder != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
