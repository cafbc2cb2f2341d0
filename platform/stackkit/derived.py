"""Every file derived from the service manifests, written or checked in one place.

``derive(root)`` returns ``{path: content}`` for all of them; ``write(root)`` brings the
working tree in line (only files whose content changed are rewritten, each in one step);
``stale(root)`` names each derived file that differs, for `make check-generated`. In the
folders that hold derived files only (``OWNED``), a file no manifest gives any more (a
removed service's) is stale too, and ``write`` removes it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from stackkit import k8s, local, overlays, workload
from stackkit.manifest import ServiceManifest, load_manifests

__all__ = ["DERIVERS", "OWNED", "derive", "stale", "write"]

Deriver = Callable[[Sequence[ServiceManifest]], dict[str, str]]

DERIVERS: tuple[Deriver, ...] = (
    local.procfiles,
    local.backends,
    local.catalogue,
    local.import_contracts,
    workload.bases,
    overlays.components,
    overlays.postgres_init,
    overlays.tracing_endpoint,
)
# Folders of derived files only.
OWNED = (k8s.BASE, overlays.DEV, overlays.PROD)


def derive(root: Path) -> dict[str, str]:
    manifests = load_manifests(root)
    files: dict[str, str] = {}
    for deriver in DERIVERS:
        files.update(deriver(manifests))
    return files


def stale(root: Path) -> list[str]:
    """``path: reason`` for every derived file that is not what the manifests give."""
    problems = []
    files = derive(root)
    for name, content in sorted(files.items()):
        path = root / name
        if not path.is_file():
            problems.append(f"{name}: missing (run `make generate`)")
        elif path.read_text(encoding="utf-8") != content:
            problems.append(f"{name}: stale (run `make generate`)")
    problems += [
        f"{name}: derived from no manifest (run `make generate`)" for name in _orphans(root, files)
    ]
    return problems


def write(root: Path) -> list[str]:
    """Write every derived file whose content changed, remove those no manifest gives any
    more; return their paths."""
    files = derive(root)
    written = []
    for name in _orphans(root, files):
        (root / name).unlink()
        written.append(name)
    for name, content in sorted(files.items()):
        path = root / name
        if path.is_file() and path.read_text(encoding="utf-8") == content:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        staged = path.with_name(f".{path.name}.deriving")
        staged.write_text(content, encoding="utf-8")
        os.replace(staged, path)
        written.append(name)
    return written


def _orphans(root: Path, files: dict[str, str]) -> list[str]:
    """The files of ``OWNED`` folders that are no derived file."""
    found = []
    for folder in OWNED:
        for path in sorted((root / folder).glob("*")):
            name = path.relative_to(root).as_posix()
            if path.is_file() and name not in files:
                found.append(name)
    return found
