"""`contractkit`: the contract checks behind the Make targets.

    contractkit thirdparty        materialise third-party protos into .thirdparty/proto
    contractkit lint              access policies and role registry, HTTP rules, request-field
                                  validation, OpenAPI lint
    contractkit lint-aip          Google's api-linter with api/api-linter.yaml (optional profile)
    contractkit breaking [--against BRANCH]
    contractkit generate [--only gen/python,api/openapi]
                                  regenerate the derived files, writing only what changed
    contractkit check-generated   fail naming each stale generated file

Each command prints one line per finding and exits 1 when there is any, 2 when the
check itself cannot run. `breaking` lets warnings and the findings that
api/breaking-acknowledged.yaml lists pass (printing them), and names stale entries.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from contractkit.acknowledged import ACKNOWLEDGED, AcknowledgementError, draft
from contractkit.aip import AipError
from contractkit.buf import BufError
from contractkit.gitref import GitError

# Each command imports the checks it runs when it runs: `make` starts this command line
# for every target, and the OpenAPI validators alone take a third of a second to import.

__all__ = ["main"]

PROTO_ROOT = Path("api/proto")


def _thirdparty(root: Path, _: argparse.Namespace) -> int:
    from contractkit.thirdparty import THIRDPARTY, materialise

    written = materialise(root / THIRDPARTY)
    print(
        f"{THIRDPARTY}: {len(written)} file(s) written" if written else f"{THIRDPARTY}: up to date"
    )
    return 0


def _lint(root: Path, _: argparse.Namespace) -> int:
    from contractkit.breaking import load_openapi_tree
    from contractkit.buf import build_image
    from contractkit.descriptors import load_image
    from contractkit.http_lint import check_http_rules
    from contractkit.openapi_lint import lint_document
    from contractkit.policy import check_access_policies
    from contractkit.request_lint import check_request_validation

    files = load_image(build_image(root))
    own = [
        p.relative_to(root / PROTO_ROOT).as_posix()
        for p in sorted((root / PROTO_ROOT).rglob("*.proto"))
    ]
    findings = [
        str(f)
        for check in (check_access_policies, check_http_rules, check_request_validation)
        for f in check(files, own)
    ]
    for name, doc in load_openapi_tree(root).items():
        findings += [str(f) for f in lint_document(doc, name)]
    return _report(findings, "contract lint")


def _lint_aip(root: Path, _: argparse.Namespace) -> int:
    from contractkit.aip import lint_aip

    return _report(lint_aip(root), "AIP lint")


def _breaking(root: Path, args: argparse.Namespace) -> int:
    from contractkit.breaking import check_breaking

    report = check_breaking(root, args.against)
    judged, base = report.judged, report.base
    for finding in judged.errors:
        print(f"{finding.face}: {finding.text}")
    for finding, entry in judged.acknowledged:
        print(f"{finding.face}: acknowledged ({entry.ships_in}): {finding.text}")
    for finding in judged.warnings:
        print(f"{finding.face}: warning: {finding.text}")
    for entry in judged.stale:
        print(
            f"{ACKNOWLEDGED}: stale ({entry.ships_in}): {entry.finding}: matches no finding "
            f"against {base} (the base has this break, or it was undone): remove the entry"
        )
    notes = _counted(
        (len(judged.acknowledged), "acknowledged", "acknowledged"),
        (len(judged.warnings), "warning", "warnings"),
        (len(judged.stale), "stale acknowledgement", "stale acknowledgements"),
    )
    if report.ok:
        verdict = (
            f"every breaking change against {base} is acknowledged"
            if judged.acknowledged
            else f"no breaking change against {base}"
        )
        print(f"breaking: {verdict}{notes}")
        return 0
    proto = sum(1 for f in judged.errors if f.face == "proto")
    print(
        f"breaking: {proto} proto and {len(judged.errors) - proto} OpenAPI "
        f"breaking changes against {base}{notes}",
        file=sys.stderr,
    )
    print(
        f"breaking: to ship a break on purpose, list it in {ACKNOWLEDGED} with its reason "
        "and release:\n" + draft(judged.errors),
        file=sys.stderr,
        end="",
    )
    return 1


def _counted(*counts: tuple[int, str, str]) -> str:
    parts = [f"{n} {one if n == 1 else many}" for n, one, many in counts if n]
    return f" ({', '.join(parts)})" if parts else ""


def _generate(root: Path, args: argparse.Namespace) -> int:
    from contractkit.generated import generate

    only = args.only.split(",") if args.only else None
    found = generate(root, only)
    written, removed = len(found.missing) + len(found.stale), len(found.extra)
    if written or removed:
        print(f"generate: {written} file(s) written, {removed} removed")
    else:
        print("generate: up to date")
    return 0


def _check_generated(root: Path, _: argparse.Namespace) -> int:
    from contractkit.generated import stale_files

    return _report(stale_files(root), "generated files")


def _report(findings: Sequence[str], what: str) -> int:
    for line in findings:
        print(line)
    if findings:
        print(f"{what}: {len(findings)} problem(s)", file=sys.stderr)
        return 1
    print(f"{what}: ok")
    return 0


COMMANDS: dict[str, Callable[[Path, argparse.Namespace], int]] = {
    "thirdparty": _thirdparty,
    "lint": _lint,
    "lint-aip": _lint_aip,
    "breaking": _breaking,
    "generate": _generate,
    "check-generated": _check_generated,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="contractkit", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="repository root")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        command = sub.add_parser(name)
        if name == "breaking":
            command.add_argument("--against", default="main", help="base branch")
        if name == "generate":
            command.add_argument(
                "--only", default="", help="output folders, comma-separated (gen/python,...)"
            )
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args.root.resolve(), args)
    except (AcknowledgementError, AipError, BufError, GitError) as exc:
        print(f"contractkit {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
