"""The PostgreSQL server the project starts for itself: it answers, keeps what a kept data
folder holds, and leaves nothing behind (no process, no temporary folder), even when its
owner is killed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from servicekit.testing.postgres import LocalPostgres, main


@pytest.fixture
def folder() -> Iterator[Path]:
    """A folder the server's user can reach: as root the server runs as ``nobody``, who
    cannot enter pytest's private ``tmp_path``."""
    made = Path(tempfile.mkdtemp(prefix="test-local-postgres-"))
    made.chmod(0o755)
    yield made
    shutil.rmtree(made, ignore_errors=True)


def connect(url: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rpartition(")")[2].split()[0] == "Z")


def eventually(condition: object, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.05)
    return False


def test_a_throwaway_server_answers_then_leaves_no_process_and_no_folder() -> None:
    with LocalPostgres() as server:
        with connect(server.url) as connection:
            found = connection.execute("SHOW fsync").fetchone()
        pid, folder = server.pid, server.data_dir

    assert found == ("off",)  # nothing of a throw-away server has to survive a crash
    assert pid is not None
    assert not alive(pid)
    assert not folder.exists()


def test_a_kept_data_folder_keeps_its_data_across_restarts(folder: Path) -> None:
    with LocalPostgres(folder / "pg") as first, connect(first.url) as connection:
        connection.execute("CREATE TABLE kept (n int)")
        connection.execute("INSERT INTO kept VALUES (42)")
    with LocalPostgres(folder / "pg") as second, connect(second.url) as connection:
        rows = connection.execute("SELECT n FROM kept").fetchall()
        durable = connection.execute("SHOW fsync").fetchone()

    assert rows == [(42,)]
    assert durable == ("on",)


def test_a_killed_owner_takes_its_server_with_it(folder: Path) -> None:
    script = (
        "import sys, time\nfrom pathlib import Path\n"
        "from servicekit.testing.postgres import LocalPostgres\n"
        f"server = LocalPostgres(Path({str(folder / 'pg')!r})).start()\n"
        "print(server.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None
        pid = int(owner.stdout.readline())
        assert alive(pid)
        owner.send_signal(signal.SIGKILL)
        owner.wait(10)
        gone = eventually(lambda: not alive(pid))
    finally:
        owner.kill()
        owner.wait()

    assert gone


def test_run_creates_the_databases_and_hands_the_command_their_urls(
    folder: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    check = (
        "import os, psycopg\n"
        "url = os.environ['ORDERS_DATABASE__URL'].replace('+psycopg', '')\n"
        "with psycopg.connect(url) as c: print('db', c.execute('SELECT current_database()')"
        ".fetchone()[0])\n"
        "raise SystemExit(7)\n"
    )
    code = main(
        [
            "run",
            "--data",
            str(folder / "pg"),
            "--database",
            "orders",
            "--",
            sys.executable,
            "-c",
            check,
        ]
    )

    out, err = capfd.readouterr()
    assert code == 7  # the command's own exit code
    assert "db orders" in out
    assert "postgres: ready at postgresql+psycopg://postgres@127.0.0.1:" in err
    assert (folder / "pg" / "PG_VERSION").exists()
