"""``python -m services.gateway serve | probe``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from servicekit.config import ConfigError
from servicekit.probe import add_probe_command
from services.gateway.app import probe, serve
from services.gateway.settings import load


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load(env_file=args.env_file)
    except ConfigError as exc:
        print(f"gateway: invalid settings\n{exc}", file=sys.stderr)
        return 2
    if args.command == "probe":
        return probe(settings, wait=args.wait)
    return serve(settings)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m services.gateway", description=__doc__)
    parser.add_argument("--env-file", type=Path, help="a dotenv file of GATEWAY_* variables")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="serve REST over HTTP until SIGTERM or SIGINT")
    add_probe_command(commands)
    return parser


if __name__ == "__main__":
    sys.exit(main())
