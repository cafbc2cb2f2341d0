"""What every service's command line shares: ``--env-file``, then one command.

``python -m services.<name> [--env-file FILE] COMMAND ...``: the settings are loaded once,
before the command runs; invalid settings are reported by key and end the process with
exit code 2, before anything starts.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from servicekit.config import ConfigError

__all__ = ["command_line", "settings_or_report"]

S = TypeVar("S")


def command_line(
    *, prog: str, env_prefix: str, description: str | None
) -> tuple[argparse.ArgumentParser, argparse._SubParsersAction[argparse.ArgumentParser]]:
    """The parser with ``--env-file``, and the sub-parsers its commands are added to."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--env-file", type=Path, help=f"a dotenv file of {env_prefix}_* variables")
    return parser, parser.add_subparsers(dest="command", required=True)


def settings_or_report(service: str, load: Callable[..., S], env_file: Path | None) -> S | None:
    """``load(env_file=...)``, or None after printing every problem to stderr."""
    try:
        return load(env_file=env_file)
    except ConfigError as exc:
        print(f"{service}: invalid settings\n{exc}", file=sys.stderr)
        return None
