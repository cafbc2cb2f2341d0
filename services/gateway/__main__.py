"""``python -m services.gateway serve | probe``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from servicekit.cli import add_serve_command, command_line, settings_or_report
from servicekit.probe import add_probe_command
from services.gateway.app import probe, serve
from services.gateway.settings import load


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = settings_or_report("gateway", load, args.env_file)
    if settings is None:
        return 2
    if args.command == "probe":
        return probe(settings, wait=args.wait)
    return serve(settings, workers=args.workers, env_file=args.env_file)


def _parser() -> argparse.ArgumentParser:
    parser, commands = command_line(
        prog="python -m services.gateway", env_prefix="GATEWAY", description=__doc__
    )
    add_serve_command(commands, "serve REST over HTTP until SIGTERM or SIGINT")
    add_probe_command(commands)
    return parser


if __name__ == "__main__":
    sys.exit(main())
