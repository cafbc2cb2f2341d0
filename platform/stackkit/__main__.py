"""``python -m stackkit derive|check``: write the files the service manifests derive, or
name each one that is stale (exit 1). A wrong manifest is one line per problem, exit 2.

``python -m stackkit new-service NAME [--resource Order]``: a new service from the
platform's template (``scaffold``); ``update-service NAME``: the template's later changes
brought into one. A name or state they refuse is one line per problem, exit 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from stackkit.derived import stale, write
from stackkit.manifest import ManifestError
from stackkit.scaffold import ScaffoldError, new_service, update_service


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stackkit", description=__doc__)
    parser.add_argument("command", choices=["derive", "check", "new-service", "update-service"])
    parser.add_argument("name", nargs="?", help="the service (new-service, update-service)")
    parser.add_argument("--resource", help="new-service: its resource (default: NAME's singular)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="repository root")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    try:
        if args.command in ("new-service", "update-service"):
            if not args.name:
                parser.error(f"{args.command} needs the service's NAME")
            return _scaffold(root, args)
        if args.command == "derive":
            written = write(root)
            print(f"derive: {len(written)} file(s) written" if written else "derive: up to date")
            return 0
        problems = stale(root)
    except (ManifestError, ScaffoldError) as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        label = "manifests" if isinstance(exc, ManifestError) else args.command
        print(f"{label}: {len(exc.problems)} problem(s)", file=sys.stderr)
        return 2
    for line in problems:
        print(line)
    if problems:
        print(f"derived files: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("derived files: ok")
    return 0


def _scaffold(root: Path, args: argparse.Namespace) -> int:
    if args.command == "update-service":
        update_service(root, args.name)
        print(f"{args.name}: template changes merged; review them (git diff), then make generate")
        return 0
    made = new_service(root, args.name, resource=args.resource)
    print(f"{made.name}: {len(made.files)} files written, gRPC on 127.0.0.1:{made.serve_port}")
    print(f"  (metrics {made.metrics_port}); REST through the gateway at /v1/{made.name}.")
    print("next: make generate (stubs, OpenAPI, derived files), then make up; make test")
    return 0


if __name__ == "__main__":
    sys.exit(main())
