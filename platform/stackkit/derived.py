"""Every file derived from the service manifests, written or checked in one place.

``derive(root)`` returns ``{path: content}`` for all of them; ``write(root)`` brings the
working tree in line (only files whose content changed are rewritten, each in one step);
``stale(root)`` names each derived file that differs, for `make check-generated`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from stackkit import local
from stackkit.manifest import ServiceManifest, load_manifests

__all__ = ["DERIVERS", "derive", "stale", "write"]

Deriver = Callable[[Sequence[ServiceManifest]], dict[str, str]]

DERIVERS: tuple[Deriver, ...] = (
    local.procfiles,
    local.backends,
    local.catalogue,
    local.import_contracts,
)


def derive(root: Path) -> dict[str, str]:
    manifests = load_manifests(root)
    files: dict[str, str] = {}
    for deriver in DERIVERS:
        files.update(deriver(manifests))
    return files


def stale(root: Path) -> list[str]:
    """``path: reason`` for every derived file that is not what the manifests give."""
    problems = []
    for name, content in sorted(derive(root).items()):
        path = root / name
        if not path.is_file():
            problems.append(f"{name}: missing (run `make generate`)")
        elif path.read_text(encoding="utf-8") != content:
            problems.append(f"{name}: stale (run `make generate`)")
    return problems


def write(root: Path) -> list[str]:
    """Write every derived file whose content changed; return their paths."""
    written = []
    for name, content in sorted(derive(root).items()):
        path = root / name
        if path.is_file() and path.read_text(encoding="utf-8") == content:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        staged = path.with_name(f".{path.name}.deriving")
        staged.write_text(content, encoding="utf-8")
        os.replace(staged, path)
        written.append(name)
    return written
