"""Every language's client proves the contracts the same way, from the same data files.

- Session (data/session.json): one `make up` stack for the module, an admin created in it
  with `python -m services.user create-admin`, then each language's runner plays the whole
  client session against it through that language's generated client; every step passes.
- Wire vectors (data/vectors.json, written by make_vectors.py): each language decodes every
  vector from binary and from proto3 JSON and re-encodes it; the bytes come back identical
  and the JSON equal as JSON. A tampered copy of the file is refused, naming the vectors.

Runners are in python/, go/, ts/ and java/ (tests/conformance/README.md); a language whose
toolchain or dependencies are not installed is skipped naming its tier.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conformance import make_vectors
from tests.conformance._runners import LANGUAGES, Runners, run
from tests.conformance._stack import REPO, Stack, make_up

DATA = Path(__file__).resolve().parent / "data"
SESSION = DATA / "session.json"
VECTORS = DATA / "vectors.json"
ADMIN_PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class LiveStack:
    stack: Stack
    admin_email: str


def load(file: Path) -> Any:
    return json.loads(file.read_text(encoding="utf-8"))


def report(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"


@pytest.fixture(scope="module")
def runners() -> Runners:
    return Runners()


@pytest.fixture(scope="module")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    """`make up` on free ports with the scenario's settings, and an admin created in it."""
    settings = load(SESSION)["stack"]["settings"]
    with make_up(tmp_path_factory.mktemp("conformance-stack"), settings) as stack:
        email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
        created = subprocess.run(
            [
                str(REPO / ".venv" / "bin" / "python"),
                "-m",
                "services.user",
                "create-admin",
                "--email",
                email,
            ],
            cwd=REPO,
            env={**stack.env, "USER_ADMIN_PASSWORD": ADMIN_PASSWORD},
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert created.returncode == 0, report(created)
        yield LiveStack(stack=stack, admin_email=email)


def outcomes(stdout: str) -> dict[str, str]:
    """Each `PASS name` / `FAIL name: why` line of a runner, by name."""
    found = {}
    for line in stdout.splitlines():
        verdict, _, rest = line.partition(" ")
        if verdict in ("PASS", "FAIL"):
            found[rest.split(":", 1)[0]] = verdict
    return found


@pytest.mark.slow
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_wire_vector_round_trips_byte_for_byte_in(language: str, runners: Runners) -> None:
    command = runners.command(language)

    done = run([*command, "vectors", str(VECTORS)])

    names = [vector["name"] for vector in load(VECTORS)["vectors"]]
    assert done.returncode == 0, report(done)
    assert outcomes(done.stdout) == dict.fromkeys(names, "PASS"), report(done)


@pytest.mark.slow
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_tampered_vector_is_refused_naming_it_in(
    language: str, runners: Runners, tmp_path: Path
) -> None:
    command = runners.command(language)
    vectors = load(VECTORS)
    by_name = {vector["name"]: vector for vector in vectors["vectors"]}
    by_name["user-typical"]["json"]["displayName"] = "Ada King"  # JSON no longer the binary
    by_name["field-default-false"]["binary"] = "1801"  # true, where the JSON says false
    tampered = tmp_path / "vectors.json"
    tampered.write_text(json.dumps(vectors, ensure_ascii=False), encoding="utf-8")

    done = run([*command, "vectors", str(tampered)])

    failed = {name for name, verdict in outcomes(done.stdout).items() if verdict == "FAIL"}
    assert done.returncode == 1, report(done)
    assert failed == {"user-typical", "field-default-false"}, report(done)


@pytest.mark.slow
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_step_of_the_client_session_passes_in(
    language: str, runners: Runners, live_stack: LiveStack, tmp_path: Path
) -> None:
    command = runners.command(language)
    config = tmp_path / "config.json"
    inputs = {
        "run": f"{language}-{uuid.uuid4().hex[:8]}",
        "adminEmail": live_stack.admin_email,
        "adminPassword": ADMIN_PASSWORD,
    }
    config.write_text(json.dumps({"targets": live_stack.stack.targets, "inputs": inputs}))

    done = run([*command, "session", str(SESSION), str(config)])

    steps = [step["name"] for step in load(SESSION)["steps"]]
    assert done.returncode == 0, report(done)
    assert outcomes(done.stdout) == dict.fromkeys(steps, "PASS"), report(done)


def test_the_committed_vectors_are_what_make_vectors_writes() -> None:
    assert VECTORS.read_text(encoding="utf-8") == make_vectors.render(), (
        "data/vectors.json is stale: run .venv/bin/python tests/conformance/make_vectors.py"
    )


def test_the_java_runner_builds_with_the_versions_of_gen_java() -> None:
    """The runner compiles gen/java's sources itself, so it must pin what gen/java pins."""
    import xml.etree.ElementTree as ET  # noqa: PLC0415 - only this test reads poms

    def properties(pom: Path) -> dict[str, str]:
        namespace = {"m": "http://maven.apache.org/POM/4.0.0"}
        found = ET.parse(pom).find("m:properties", namespace)  # noqa: S314 - our own files
        assert found is not None
        return {child.tag.split("}")[1]: child.text or "" for child in found}

    generated = properties(REPO / "gen" / "java" / "pom.xml")
    runner = properties(REPO / "tests" / "conformance" / "java" / "pom.xml")

    assert {name: runner.get(name) for name in generated} == generated
