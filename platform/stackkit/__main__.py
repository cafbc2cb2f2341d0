"""``python -m stackkit derive|check``: write the files the service manifests derive, or
name each one that is stale (exit 1). A wrong manifest is one line per problem, exit 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from stackkit.derived import stale, write
from stackkit.manifest import ManifestError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stackkit", description=__doc__)
    parser.add_argument("command", choices=["derive", "check"])
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="repository root")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    try:
        if args.command == "derive":
            written = write(root)
            print(f"derive: {len(written)} file(s) written" if written else "derive: up to date")
            return 0
        problems = stale(root)
    except ManifestError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        print(f"manifests: {len(exc.problems)} problem(s)", file=sys.stderr)
        return 2
    for line in problems:
        print(line)
    if problems:
        print(f"derived files: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("derived files: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
