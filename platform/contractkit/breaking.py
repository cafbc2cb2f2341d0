"""`make breaking`: the contracts and their REST face against a base branch.

Two reports, one per face: `buf breaking` (FILE rules) for the protobuf contracts and
the OpenAPI breaking check: the base's committed `api/openapi` against the REST face
generated afresh from the working contracts by buf.gen.yaml's OpenAPI plugin (so a contract
edited without `make generate` is still judged by what it will generate). The base tree is
exported from git into a scratch folder: the check needs only the base commit (a shallow
clone fetches it).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from contractkit.buf import BufError, run_buf
from contractkit.findings import Finding
from contractkit.generated import generate_into
from contractkit.gitref import export_tree, resolve_base
from contractkit.openapi_breaking import diff_trees
from contractkit.thirdparty import materialise

__all__ = ["BreakingReport", "check_breaking", "load_openapi_tree"]

THIRDPARTY = Path(".thirdparty/proto")
OPENAPI = Path("api/openapi")
_BUF_BREAKING = 100  # buf's exit code for "breaking changes found"


@dataclass
class BreakingReport:
    """What the base -> working tree change breaks, face by face."""

    base: str
    proto: list[str] = field(default_factory=list)
    openapi: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.proto and not self.openapi


def load_openapi_tree(root: Path) -> dict[str, Any]:
    """The OpenAPI documents of the repository at `root`, keyed by their path in it."""
    folder = root / OPENAPI
    return (
        {
            p.relative_to(root).as_posix(): yaml.safe_load(p.read_text(encoding="utf-8"))
            for p in sorted(folder.rglob("*.yaml"))
        }
        if folder.is_dir()
        else {}
    )


def check_breaking(root: Path, branch: str) -> BreakingReport:
    """Compares the working tree at `root` with `branch`."""
    commit = resolve_base(root, branch)
    report = BreakingReport(base=f"{branch} ({commit[:12]})")
    with tempfile.TemporaryDirectory(prefix="breaking-") as tmp:
        base, head = Path(tmp, "base"), Path(tmp, "head")
        base.mkdir()
        head.mkdir()
        present = export_tree(root, commit, ["buf.yaml", "api"], base)
        if "buf.yaml" in present and (base / "api/proto").is_dir():
            materialise(base / THIRDPARTY)
            report.proto = _buf_breaking(root, base)
        # The REST face only: the other languages' plugins would triple the time.
        generate_into(root, head, only=[OPENAPI.as_posix()])
        report.openapi = diff_trees(load_openapi_tree(base), load_openapi_tree(head))
    return report


def _buf_breaking(root: Path, base: Path) -> list[str]:
    result = run_buf("breaking", "--against", str(base), cwd=root)
    lines = [line for line in result.stdout.decode(errors="replace").splitlines() if line]
    if result.returncode not in (0, _BUF_BREAKING):
        raise BufError(result.stderr.decode(errors="replace").strip() or "\n".join(lines))
    return lines
