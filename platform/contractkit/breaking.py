"""`make breaking`: the contracts and their REST face against a base branch.

Three checks, reported on two faces:

- `proto:` `buf breaking` (FILE rules): the wire shape of the contracts;
- `proto:` the contracts' behaviour (:mod:`contractkit.behaviour`): access policies, request
  validation rules, the update mask's paths, defaults, enum values added to responses (a
  warning);
- `openapi:` the base's committed `api/openapi` against the REST face generated afresh from
  the working contracts by buf.gen.yaml's OpenAPI plugin (so a contract edited without
  `make generate` is still judged by what it will generate).

Each finding has an identity (:mod:`contractkit.acknowledged`); the ones that
`api/breaking-acknowledged.yaml` lists are accepted. The base tree is exported from git into
a scratch folder: the check needs only the base commit (a shallow clone fetches it).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contractkit.acknowledged import Judged, Reported, identity, judge, load_acknowledgements
from contractkit.behaviour import WARNINGS, Contract, diff_behaviour
from contractkit.buf import BufError, build_image, run_buf
from contractkit.descriptors import load_image
from contractkit.findings import Finding
from contractkit.generated import generate_into
from contractkit.gitref import export_tree, resolve_base
from contractkit.openapi_breaking import diff_trees
from contractkit.thirdparty import THIRDPARTY, materialise
from contractkit.yamlio import safe_load

__all__ = ["BreakingReport", "check_breaking", "load_openapi_tree"]

OPENAPI = Path("api/openapi")
PROTO = Path("api/proto")
_BUF_BREAKING = 100  # buf's exit code for "breaking changes found"


@dataclass
class BreakingReport:
    """What the base -> working tree change breaks, judged against the acknowledgements."""

    base: str
    judged: Judged

    @property
    def ok(self) -> bool:
        return not self.judged.errors


def load_openapi_tree(root: Path) -> dict[str, Any]:
    """The OpenAPI documents of the repository at `root`, keyed by their path in it."""
    folder = root / OPENAPI
    return (
        {
            p.relative_to(root).as_posix(): safe_load(p.read_text(encoding="utf-8"))
            for p in sorted(folder.rglob("*.yaml"))
        }
        if folder.is_dir()
        else {}
    )


def check_breaking(root: Path, branch: str) -> BreakingReport:
    """Compares the working tree at `root` with `branch`."""
    entries = load_acknowledgements(root)
    commit = resolve_base(root, branch)
    found: list[Reported] = []
    with tempfile.TemporaryDirectory(prefix="breaking-") as tmp:
        base, head = Path(tmp, "base"), Path(tmp, "head")
        base.mkdir()
        head.mkdir()
        present = export_tree(root, commit, ["buf.yaml", "api"], base)
        if "buf.yaml" in present and (base / PROTO).is_dir():
            materialise(base / THIRDPARTY)
            found += _buf_breaking(root, base)
            found += _behaviour(base, root)
        # The REST face only: the other languages' plugins would triple the time.
        generate_into(root, head, only=[OPENAPI.as_posix()])
        openapi = diff_trees(load_openapi_tree(base), load_openapi_tree(head))
    found += [_openapi(finding) for finding in openapi]
    return BreakingReport(base=f"{branch} ({commit[:12]})", judged=judge(found, entries))


def _buf_breaking(root: Path, base: Path) -> list[Reported]:
    result = run_buf("breaking", "--against", str(base), "--error-format=json", cwd=root)
    lines = [line for line in result.stdout.decode(errors="replace").splitlines() if line]
    if result.returncode not in (0, _BUF_BREAKING):
        raise BufError(result.stderr.decode(errors="replace").strip() or "\n".join(lines))
    found = []
    for line in lines:
        item = json.loads(line)
        path, rule, message = item.get("path", ""), item.get("type", ""), item.get("message", "")
        place = f"{path}:{item.get('start_line', 0)}:{item.get('start_column', 0)}"
        found.append(
            Reported("proto", f"{place}:{message} [{rule}]", identity("proto", rule, path, message))
        )
    return found


def _own_files(root: Path) -> frozenset[str]:
    folder = root / PROTO
    return frozenset(p.relative_to(folder).as_posix() for p in folder.rglob("*.proto"))


def _behaviour(base: Path, root: Path) -> list[Reported]:
    before = Contract(load_image(build_image(base)), _own_files(base))
    after = Contract(load_image(build_image(root)), _own_files(root))
    return [
        Reported(
            "proto",
            str(Finding(f"{PROTO.as_posix()}/{f.source}", f.location, f.rule, f.message)),
            identity("proto", f.rule, f.location, f.message),
            warning=f.rule in WARNINGS,
        )
        for f in diff_behaviour(before, after)
    ]


def _openapi(finding: Finding) -> Reported:
    place = f"{finding.source} {finding.location}"
    return Reported(
        "openapi", str(finding), identity("openapi", finding.rule, place, finding.message)
    )
