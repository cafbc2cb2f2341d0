"""A newcomer's first hour, as the README tells it: `make up`, the session over REST (run
twice, as after a restart with `.run/` kept: `make demo` runs it from the README itself),
`make up` again while the stack runs, `make reset`, and Ctrl-C.

Every step's output is checked; the stack is moved aside through the services' settings
variables, and `make reset` runs in a throw-away folder, so nothing here touches a
developer's stack or `.run/`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pytest

from servicekit.testing.postgres import LocalPostgres, create_databases
from stackkit.manifest import load_manifests
from tests.e2e.test_make_up import (
    READY_LINE,
    REPO,
    descendants,
    kill_everything,
    running_services,
    stack_env,
    start_make,
    wait_announced,
)

ADA = "ada@example.com"
HONCHO_LINE = re.compile(r"(\d\d:\d\d:\d\d) (\S+)\s*\| (.*)")


def make(*arguments: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *arguments],
        cwd=REPO,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def steps(output: str) -> list[tuple[str, list[str]]]:
    """Each command `make demo` printed (its first line) with the lines it printed."""
    found: list[tuple[str, list[str]]] = []
    continued = False
    for line in output.splitlines():
        if continued:
            continued = line.endswith("\\")
        elif line.startswith("$ "):
            found.append((line[2:], []))
            continued = line.endswith("\\")
        elif line.startswith("# ") or not line:
            continue  # the session's narration
        elif found:
            found[-1][1].append(line)
    return found


def one_json(lines: list[str]) -> dict[str, object]:
    assert len(lines) == 1, lines
    value: dict[str, object] = json.loads(lines[0])
    return value


def check_session(output: str, *, first_run: bool) -> None:
    """Every step of the README's session said what it should (see its comments)."""
    found = steps(output)
    commands = [command for command, _ in found]
    printed = [lines for _, lines in found]
    assert len(commands) == 12, commands
    silent = ("GW=", "TOKENS=", "ACCESS=", "USER_ID=", "ADMIN=", "REFRESH=")
    assert [lines for command, lines in found if command.startswith(silent)] == [[]] * 6

    signed_up = one_json(printed[1])
    if first_run:
        assert (signed_up["email"], signed_up["displayName"]) == (ADA, "Ada")
    else:
        assert (signed_up["status"], signed_up["code"]) == (409, "ALREADY_EXISTS")
    read, patched = one_json(printed[5]), one_json(printed[6])
    assert read["email"] == ADA
    assert read["displayName"] == ("Ada" if first_run else "Ada Lovelace")
    assert (patched["id"], patched["displayName"]) == (read["id"], "Ada Lovelace")
    (admin,) = printed[7]
    assert re.fullmatch(r"user: root@example\.com is an admin \(user id [0-9a-f-]{36}\)", admin)
    page = one_json(printed[9])
    assert len(page["users"]) == 1  # type: ignore[arg-type]
    assert page["nextPageToken"]
    assert one_json(printed[11]) == {}


def honcho_times(output: str) -> list[tuple[datetime, str, str]]:
    found = []
    for line in output.splitlines():
        match = HONCHO_LINE.match(line)
        if match:
            time_of, name, text = match.groups()
            found.append((datetime.strptime(time_of, "%H:%M:%S"), name, text))
    return found


def checkout_without_state(folder: Path) -> Path:
    """A folder holding the service manifests (what the Makefile lists services from) and a
    `.run/` with something in it: where `make -f REPO/Makefile reset` may empty `.run/`."""
    for manifest in load_manifests(REPO):
        target = folder / "services" / manifest.name / "service.yaml"
        target.parent.mkdir(parents=True)
        shutil.copy(REPO / "services" / manifest.name / "service.yaml", target)
    (folder / ".run").mkdir()
    (folder / ".run" / "user.db").write_text("kept until reset")
    return folder


def reset(folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    venv = f"VENV={REPO / '.venv'}"
    return make("-C", str(folder), "-f", str(REPO / "Makefile"), "reset", venv, env=env)


@pytest.mark.slow
def test_the_readme_session_runs_twice_against_make_up_and_every_step_says_what_it_did(
    tmp_path: Path,
) -> None:
    (tmp_path / "state").mkdir()
    env = stack_env(tmp_path / "state")
    other = checkout_without_state(tmp_path / "other")
    log = tmp_path / "make-up.log"
    process = start_make("up", env, log)
    try:
        wait_announced(log, process)
        again = make("up", env=env)
        demos = [make("demo", env=env) for _ in range(2)]
        refused = reset(other, env)
        kept = (other / ".run" / "user.db").exists()
        started = descendants(process.pid)
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        code = process.wait(60)
        time.sleep(1)
        left = running_services(started)
        emptied = reset(other, env)
    finally:
        kill_everything(process)
    output = log.read_text(errors="replace")

    # make up: one plain line per migrated database, the stack ready soon after its last
    # service, and Ctrl-C ends it with 0 (every service exited 0).
    assert "Context impl" not in output
    assert re.search(r"^user: migrated \S+user\.db from an empty schema to \w+$", output, re.M)
    lines = honcho_times(output)
    up = [
        at
        for at, name, text in lines
        if "grpc server started" in text or "startup complete" in text
    ]
    announced = [at for at, name, text in lines if text == READY_LINE]
    assert announced
    assert (announced[0] - max(up)).total_seconds() <= 5
    # make itself dies of the SIGINT it got too, silently: only a process that failed
    # would make it say `make: *** [Makefile:..: up] Error ...` (honcho alone: Error 130).
    assert code in (0, -signal.SIGINT), output[-2000:]
    assert "make: ***" not in output
    assert "Terminated" not in output
    assert left == set()
    # make up while it runs: one line, nothing started, nothing migrated.
    assert again.returncode == 0, again.stderr
    said = again.stdout.splitlines()[-1]
    assert said.startswith("up: the stack already runs here (")
    assert f"user at grpc 127.0.0.1:{env['USER_GRPC__PORT']}" in said
    assert said.endswith("); Ctrl-C where it runs stops it")
    assert "migrated" not in again.stdout + again.stderr
    # The README's session, twice: the second time Ada exists, and everything still works.
    for run, demo in enumerate(demos):
        assert demo.returncode == 0, demo.stdout + demo.stderr
        assert "jq: error" not in demo.stdout + demo.stderr
        check_session(demo.stdout, first_run=run == 0)
    # make reset: refused while the stack runs, then empties .run/.
    assert refused.returncode != 0
    assert refused.stderr.startswith("reset: the stack runs here (")
    assert kept
    assert emptied.returncode == 0, emptied.stderr
    assert emptied.stdout == "reset: .run/ is empty; the next make up starts afresh\n"
    assert list((other / ".run").iterdir()) == []


# make db-shell


def test_make_db_shell_names_the_services_that_have_a_database() -> None:
    with_database = " ".join(sorted(m.name for m in load_manifests(REPO) if m.database))
    env = dict(os.environ)

    unnamed = make("db-shell", env=env)
    gateway = make("db-shell", "SERVICE=gateway", env=env)

    assert unnamed.returncode != 0
    assert unnamed.stderr.splitlines()[0] == (
        "usage: make db-shell SERVICE=<name> [DB=postgres] "
        f"(those with a database: {with_database})"
    )
    assert gateway.returncode != 0
    assert gateway.stderr.splitlines()[0] == (
        f"db-shell: gateway has no database (those with one: {with_database})"
    )


def test_make_db_shell_with_db_postgres_and_no_server_says_what_starts_one(
    tmp_path: Path,
) -> None:
    shell = make(
        "db-shell", "SERVICE=user", "DB=postgres", f"DB_DIR={tmp_path}", env=dict(os.environ)
    )

    assert shell.returncode != 0
    assert shell.stderr.splitlines()[0] == (
        f"postgres: no server runs on {tmp_path} (make up DB=postgres starts one)"
    )


@pytest.mark.slow
def test_make_db_shell_with_db_postgres_is_psql_on_the_running_servers_database() -> None:
    kept = Path(tempfile.mkdtemp(prefix="test-db-shell-postgres-"))
    kept.chmod(0o755)  # as root the server runs as nobody, who must reach the folder
    try:
        with LocalPostgres(kept / "data") as server:
            create_databases(server, ["user"])
            shell = make(
                "db-shell",
                "SERVICE=user",
                "DB=postgres",
                f"DB_DIR={kept / 'data'}",
                env={k: v for k, v in os.environ.items() if not k.startswith("USER_")},
                stdin="SELECT current_database() AS here;\n",
            )
    finally:
        shutil.rmtree(kept, ignore_errors=True)

    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.split()[:3] == ["here", "------", "user"]
