"""``make dev``'s ``contracts`` process: a contract edit regenerates what the stack runs on.

``python -m stackkit.regenerate api/proto -- make --no-print-directory stack-generated``
watches the folder and runs the command after each change to a ``.proto`` file (saves
that come together are one run). The services' own watchers then restart what the new
stubs and OpenAPI document concern. Each run is one line::

    contracts: regenerated after api/proto/acme/user/v1/user_service.proto changed (3 ...)
    contracts: generation failed, the stack keeps running its code: api/proto/...:124:3:...

A failed generation writes nothing (contractkit writes only once buf succeeded), so the
running services keep serving; the next save tries again.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import signal
import subprocess  # runs the generation command of the Procfile  # nosec B404
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import watchfiles

__all__ = ["main", "outcome_line", "watch"]

_PREFIX = "contracts"
_SUMMARY = re.compile(r"\bgenerate: (.+)$")
_MAKE_NOISE = re.compile(r"^make(\[\d+\])?: ")


def outcome_line(changed: Sequence[str], returncode: int, stdout: str, stderr: str = "") -> str:
    """The one line that reports a run of the generation over ``changed`` files: its first
    error (stderr first: stdout holds the steps that went well), or what it wrote."""
    if returncode != 0:
        errors = _meaningful(stderr) or _meaningful(stdout)
        first = errors[0] if errors else f"exit code {returncode}"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return f"{_PREFIX}: generation failed, the stack keeps running its code: {first}{more}"
    summaries = [m.group(1) for line in _meaningful(stdout) if (m := _SUMMARY.search(line))]
    what = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
    if summaries == ["up to date"]:
        return f"{_PREFIX}: {what} saved; the generated code was up to date already"
    detail = f" ({summaries[0]})" if summaries else ""
    return f"{_PREFIX}: regenerated after {what} changed{detail}"


def _meaningful(output: str) -> list[str]:
    """The lines of ``output`` but blank ones and make's own (``make: *** ... Error 2``)."""
    lines = (line.strip() for line in output.splitlines())
    return [line for line in lines if line and not _MAKE_NOISE.match(line)]


def _run(command: Sequence[str], changed: Sequence[str]) -> str:
    # The Procfile's own command (make stack-generated), as a list: no shell.
    done = subprocess.run(  # noqa: S603  # nosec B603
        list(command), capture_output=True, text=True, check=False
    )
    return outcome_line(changed, done.returncode, done.stdout, done.stderr)


def _is_contract(_change: watchfiles.Change, path: str) -> bool:
    return path.endswith(".proto")


def watch(folder: Path, command: Sequence[str], *, root: Path) -> None:
    """Run ``command`` after each change to a ``.proto`` file under ``folder``; never at
    start (``make dev`` has just generated). Returns on Ctrl-C or SIGTERM."""
    print(f"{_PREFIX}: watching {folder}: saving a .proto file regenerates the stack's code")
    sys.stdout.flush()
    for changes in watchfiles.watch(folder, watch_filter=_is_contract):
        print(_run(command, sorted(_relative(changes, root))), flush=True)


def _relative(changes: Iterable[tuple[watchfiles.Change, str]], root: Path) -> set[str]:
    found = set()
    for _, path in changes:
        try:
            found.add(str(Path(path).resolve().relative_to(root.resolve())))
        except ValueError:
            found.add(path)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m stackkit.regenerate",
        description="Run a command after each change to a .proto file of a folder.",
    )
    parser.add_argument("folder", type=Path, help="the contracts: api/proto")
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="-- COMMAND ...")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("name the generation command after --")
    signal.signal(signal.SIGTERM, _interrupt)  # honcho stops its processes with SIGTERM
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C, SIGTERM: a normal end
        watch(args.folder, command, root=Path.cwd())
    return 0


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
