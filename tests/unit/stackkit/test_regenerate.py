"""``make dev``'s ``contracts`` process (``stackkit.regenerate``): a saved ``.proto``
regenerates the stack's code; a contract that does not compile is one line, and what the
services run stays as it was.

The real generation runs on a throw-away copy of the contracts (never on this checkout,
where other stacks may be watching)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stackkit.regenerate import outcome_line

REPO = Path(__file__).resolve().parents[3]
CONTRACT = "api/proto/acme/user/v1/user_service.proto"
STUBS = "gen/python/acme/user/v1/user_service_pb2.py"


def test_a_failed_generation_is_its_first_error_without_makes_noise() -> None:
    stdout = ".thirdparty/proto: up to date\n"
    stderr = (
        "contractkit generate: api/proto/acme/user/v1/user_service.proto:124:3:cannot find "
        "`strin` in this scope\nmake: *** [Makefile:184: stack-generated] Error 2\n"
    )

    line = outcome_line([CONTRACT], 2, stdout, stderr)

    assert line == (
        "contracts: generation failed, the stack keeps running its code: contractkit generate: "
        "api/proto/acme/user/v1/user_service.proto:124:3:cannot find `strin` in this scope"
    )


def test_several_errors_are_still_one_line() -> None:
    line = outcome_line([CONTRACT], 1, "", "a.proto:1:1:first\nb.proto:2:2:second\n")

    assert line == (
        "contracts: generation failed, the stack keeps running its code: a.proto:1:1:first "
        "(and 1 more)"
    )


def test_a_generation_names_what_changed_and_what_it_wrote() -> None:
    output = ".thirdparty/proto: up to date\ngenerate: 3 file(s) written, 0 removed\n"

    line = outcome_line([CONTRACT], 0, output)

    assert line == f"contracts: regenerated after {CONTRACT} changed (3 file(s) written, 0 removed)"


def test_a_save_that_changes_nothing_generated_says_so() -> None:
    line = outcome_line([CONTRACT], 0, "generate: up to date\nderive: up to date\n")

    assert line == f"contracts: {CONTRACT} saved; the generated code was up to date already"


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    """The contracts, their configuration and the stack's generated code, copied."""
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("buf.yaml", "buf.gen.yaml"):
        shutil.copy2(REPO / name, root / name)
    ignore = shutil.ignore_patterns("__pycache__")
    for name in ("api", "gen/python", ".thirdparty"):
        shutil.copytree(REPO / name, root / name, ignore=ignore)
    return root


@pytest.fixture
def watcher(sandbox: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """The ``contracts`` process of Procfile.dev on the sandbox, running contractkit's
    generation of the stack's outputs (what `make stack-generated` runs first)."""
    log = tmp_path / "contracts.log"
    generate = [sys.executable, "-m", "contractkit.cli", "--root", str(sandbox)]
    generate += ["generate", "--only", "gen/python,api/openapi"]
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"  # buf
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "stackkit.regenerate", "api/proto", "--", *generate],
            cwd=sandbox,
            env={**os.environ, "PATH": path},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process, log
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def wait_line(
    log: Path, process: subprocess.Popen[bytes], prefix: str, save: tuple[Path, str] | None = None
) -> str:
    """The first line of the log starting with ``prefix``; until there is one, ``save``
    (a file and its text) is saved every few seconds: a save made before the watcher
    watched is not seen."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if save is not None:
            save[0].write_text(save[1], encoding="utf-8")
        for _ in range(60):
            lines = log.read_text(errors="replace").splitlines()
            found = [line for line in lines if line.startswith(prefix)]
            if found:
                return found[0]
            assert process.poll() is None, "\n".join(lines)
            time.sleep(0.1)
    pytest.fail(f"no line {prefix!r}:\n{log.read_text(errors='replace')}")


@pytest.mark.slow
def test_a_saved_contract_regenerates_and_a_broken_one_is_one_line(
    sandbox: Path, watcher: tuple[subprocess.Popen[bytes], Path]
) -> None:
    process, log = watcher
    contract = sandbox / CONTRACT
    original = contract.read_text(encoding="utf-8")
    stubs = (sandbox / STUBS).read_bytes()
    broken = original.replace(
        "message GetUserRequest {", "message GetUserRequest {\n  strin x = 99;"
    )
    grown = original.replace(
        "message GetUserRequest {", "message GetUserRequest {\n  string x = 99;"
    )
    assert original not in (broken, grown)
    wait_line(log, process, "contracts: watching api/proto")

    failed = wait_line(log, process, "contracts: generation failed", (contract, broken))
    stubs_after_failure = (sandbox / STUBS).read_bytes()
    regenerated = wait_line(log, process, "contracts: regenerated", (contract, grown))
    process.send_signal(signal.SIGTERM)  # how honcho stops it
    code = process.wait(30)

    assert failed.startswith(
        "contracts: generation failed, the stack keeps running its code: contractkit generate: "
        f"{CONTRACT}:"
    )
    assert "strin" in failed
    assert stubs_after_failure == stubs  # nothing written: the services keep their code
    assert regenerated.startswith(f"contracts: regenerated after {CONTRACT} changed (")
    assert (sandbox / STUBS).read_bytes() != stubs
    assert code == 0
