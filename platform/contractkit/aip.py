"""`make lint-aip`: Google's api-linter over the contracts, an optional AIP profile.

api-linter (pinned in platform/tools/go/go.mod, installed into .tools/bin by `make install`)
reads the contracts with the same import paths as buf (api/proto, then the third-party
protos of .thirdparty/proto) and the repository's deliberate deviations from the AIPs,
`api/api-linter.yaml`: a list of api-linter configurations, each with the `reason` the
deviation is deliberate. Findings print one a line, like the contract lint's.
"""

from __future__ import annotations

import json
import shutil
import subprocess  # runs the pinned api-linter binary, no shell  # nosec B404
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from contractkit.buf import plugin_path

__all__ = ["AIP_CONFIG", "AipError", "Deviation", "api_linter", "lint_aip", "read_deviations"]

AIP_CONFIG = Path("api/api-linter.yaml")
_IMPORTS = ("api/proto", ".thirdparty/proto")


class AipError(Exception):
    """api-linter is missing, its configuration is unsound, or it failed to run."""


@dataclass(frozen=True)
class Deviation:
    """One entry of the configuration: AIP rules switched off, and why."""

    reason: str
    disabled_rules: tuple[str, ...]
    included_paths: tuple[str, ...]


def read_deviations(root: Path) -> list[Deviation]:
    """The entries of `api/api-linter.yaml`, each with a reason and the rules it disables."""
    try:
        entries = yaml.safe_load((root / AIP_CONFIG).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise AipError(f"{AIP_CONFIG}: {exc}") from exc
    if not isinstance(entries, list) or not entries:
        raise AipError(f"{AIP_CONFIG}: expected a list of configurations")
    return [_deviation(number, entry) for number, entry in enumerate(entries, start=1)]


def _deviation(number: int, entry: Any) -> Deviation:
    where = f"{AIP_CONFIG}: entry {number}"
    if not isinstance(entry, dict):
        raise AipError(f"{where}: expected a mapping")
    reason, rules = entry.get("reason"), entry.get("disabled_rules")
    if not isinstance(reason, str) or not reason.strip():
        raise AipError(f"{where}: every deviation needs a `reason`")
    if not isinstance(rules, list) or not rules or not all(isinstance(r, str) for r in rules):
        raise AipError(f"{where}: `disabled_rules` must list the rules it switches off")
    if entry.get("enabled_rules"):
        raise AipError(f"{where}: deviations only disable rules")
    paths = entry.get("included_paths") or []
    return Deviation(reason.strip(), tuple(rules), tuple(str(p) for p in paths))


def api_linter() -> str | None:
    """The pinned api-linter (.tools/bin, as `make` puts it on PATH), or None."""
    return shutil.which("api-linter", path=plugin_path())


def lint_aip(root: Path) -> list[str]:
    """One line per api-linter finding on the contracts of `root`."""
    read_deviations(root)
    linter = api_linter()
    if linter is None:
        raise AipError(
            "api-linter is not installed: run `make install` (pinned in platform/tools/go)"
        )
    files = sorted(
        p.relative_to(root / _IMPORTS[0]).as_posix() for p in (root / _IMPORTS[0]).rglob("*.proto")
    )
    imports = [arg for folder in _IMPORTS for arg in ("-I", folder)]
    command = [linter, *imports, "--config", str(AIP_CONFIG), "--output-format=json", *files]
    result = subprocess.run(command, cwd=root, capture_output=True, check=False)  # nosec B603
    if result.returncode != 0:
        raise AipError(result.stderr.decode(errors="replace").strip() or "api-linter failed")
    found = [
        _finding(file["file_path"], problem)
        for file in json.loads(result.stdout or b"[]")
        for problem in file.get("problems") or []
    ]
    return [line for _, line in sorted(found)]


def _finding(path: str, problem: dict[str, Any]) -> tuple[tuple[str, int, int, str], str]:
    """The line of one finding, with the key that orders findings by position."""
    start = (problem.get("location") or {}).get("start_position") or {}
    line, column = int(start.get("line_number", 0)), int(start.get("column_number", 0))
    rule = str(problem.get("rule_id", ""))
    text = f"{_IMPORTS[0]}/{path}:{line}:{column}: {str(problem.get('message', '')).strip()}"
    return (path, line, column, rule), f"{text} [{rule}]"
