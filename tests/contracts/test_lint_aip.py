"""The optional AIP profile (`make lint-aip`): Google's api-linter, pinned in the Go tools
module, with the repository's deliberate deviations listed, each with its reason, in
api/api-linter.yaml. The checks that need api-linter skip, naming the tier, when
`make install` has not installed it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from contractkit.aip import AIP_CONFIG, AipError, api_linter, read_deviations

ROOT = Path(__file__).resolve().parents[2]
GO_MOD = ROOT / "platform/tools/go/go.mod"
LINE = re.compile(r"^api/proto/\S+\.proto:\d+:\d+: .+ \[[a-z-]+::\d{4}::[a-z0-9-]+\]$")


def installed() -> str:
    linter = api_linter()
    if linter is None:
        pytest.skip("Go toolchain tier: api-linter is not installed (make install)")
    return linter


def test_every_deviation_says_why_and_which_rules_it_switches_off() -> None:
    deviations = read_deviations(ROOT)

    assert deviations
    for deviation in deviations:
        assert len(deviation.reason) > 40, deviation
        assert deviation.disabled_rules, deviation
    rules = [rule for deviation in deviations for rule in deviation.disabled_rules]
    assert len(rules) == len(set(rules)), "a rule is switched off twice"


def test_a_deviation_without_a_reason_is_refused(tmp_path: Path) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / AIP_CONFIG).write_text("- disabled_rules: [core::0191::java-package]\n")

    with pytest.raises(AipError, match="entry 1: every deviation needs a `reason`"):
        read_deviations(tmp_path)


def test_the_deviations_name_rules_that_api_linter_has() -> None:
    listed = subprocess.run(
        [installed(), "--list-rules", "--output-format=json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    known = {rule["Name"] for rule in json.loads(listed.stdout)}

    for deviation in read_deviations(ROOT):
        assert set(deviation.disabled_rules) <= known, deviation


def test_api_linter_is_the_version_the_go_tools_module_pins() -> None:
    version = subprocess.run(
        [installed(), "--version"], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    pinned = re.search(r"^\s*github\.com/googleapis/api-linter/v2 v(\S+)", GO_MOD.read_text(), re.M)

    assert pinned, "platform/tools/go/go.mod pins no api-linter"
    assert version == f"api-linter {pinned[1]}"


def test_lint_aip_prints_one_line_per_finding_and_none_of_a_deviation() -> None:
    installed()
    result = subprocess.run(
        [sys.executable, "-m", "contractkit.cli", "--root", str(ROOT), "lint-aip"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )

    assert result.returncode in (0, 1), result.stderr
    lines = [line for line in result.stdout.splitlines() if line != "AIP lint: ok"]
    assert all(LINE.match(line) for line in lines), lines
    assert (result.returncode == 1) == bool(lines)
    everywhere = {
        rule for d in read_deviations(ROOT) if not d.included_paths for rule in d.disabled_rules
    }
    assert not [line for line in lines if line.rsplit("[", 1)[1].rstrip("]") in everywhere]
