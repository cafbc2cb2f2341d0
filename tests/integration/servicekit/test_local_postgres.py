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
        pid, folder = server.server_pid, server.data_dir

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


def test_a_killed_owner_takes_its_server_and_its_temporary_cluster_with_it() -> None:
    script = (
        "import time\n"
        "from servicekit.testing.postgres import LocalPostgres\n"
        "server = LocalPostgres().start()\n"
        "print(server.server_pid, server.data_dir, flush=True)\n"
        "time.sleep(60)\n"
    )
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None
        pid_text, data_dir = owner.stdout.readline().split()
        pid = int(pid_text)
        assert alive(pid)
        owner.send_signal(signal.SIGKILL)
        owner.wait(10)
        gone = eventually(lambda: not alive(pid), within=30)
        removed = eventually(lambda: not Path(data_dir).exists(), within=30)
    finally:
        owner.kill()
        owner.wait()

    assert gone
    assert removed


def test_a_server_starts_beside_grpc_threads_of_its_owner() -> None:
    """The owner may be a test process with gRPC's threads running: starting a server
    there runs no Python between fork and exec (it aborted once, in gRPC's fork handler)."""
    from concurrent import futures  # noqa: PLC0415

    import grpc  # noqa: PLC0415

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel("127.0.0.1:1")  # a client's threads too
    try:
        for _ in range(3):
            with LocalPostgres() as postgres, connect(postgres.url) as connection:
                assert connection.execute("SELECT 1").fetchone() == (1,)
    finally:
        channel.close()
        server.stop(0)


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
