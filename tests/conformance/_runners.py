"""The four conformance runners: how each is built (offline, from what `make install`
fetched) and how it is started.

A language whose toolchain or installed dependencies are missing is skipped, naming its
tier ("Go toolchain tier: ..."); with CI=true tests/conftest.py makes that a failure. A
build that fails for any other reason fails the test, with the build's output.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests._gen_ts import build_gen_ts
from tests._toolchains import NOT_DOWNLOADED, output, program, run

__all__ = ["LANGUAGES", "Runners", "run"]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
NPM_BIN = ROOT / "platform" / "tools" / "npm" / "node_modules" / ".bin"
LANGUAGES = ("python", "go", "typescript", "java")


def python() -> list[str]:
    return [sys.executable, str(HERE / "python" / "runner.py")]


def go() -> list[str]:
    folder = HERE / "go"
    go = program("go", "Go")
    offline = {"GOPROXY": "off", "GOFLAGS": "-mod=readonly"}
    if run([go, "mod", "download"], folder, **offline).returncode != 0:
        pytest.skip("Go toolchain tier: the runner's modules are not downloaded (make install)")
    binary = folder / "bin" / "conformance"
    built = run([go, "build", "-o", str(binary), "."], folder, **offline)
    assert built.returncode == 0, output(built)
    return [str(binary)]


def typescript() -> list[str]:
    folder = HERE / "ts"
    program("node", "TypeScript")
    tsc, tsx = NPM_BIN / "tsc", NPM_BIN / "tsx"
    if not (tsc.is_file() and tsx.is_file()):
        pytest.skip("TypeScript toolchain tier: tsc or tsx is not installed (make install)")
    wanted = ["@acme/api", "@connectrpc/connect-node", "@types/node"]
    missing = [name for name in wanted if not (folder / "node_modules" / name).exists()]
    if missing or not (ROOT / "gen" / "ts" / "node_modules" / "@bufbuild" / "protobuf").is_dir():
        lacking = missing or "gen/ts's dependencies"
        pytest.skip(f"TypeScript toolchain tier: the runner lacks {lacking} (make install)")
    built = build_gen_ts(tsc)  # @acme/api's exports name its dist/: never an old one
    assert built.returncode == 0, output(built)
    checked = run([str(tsc), "--noEmit", "-p", str(folder)])  # strict, as gen/ts is
    assert checked.returncode == 0, output(checked)
    return [str(tsx), str(folder / "src" / "runner.ts")]


def java() -> list[str]:
    folder = HERE / "java"
    mvn = program("mvn", "Java")
    java = program("java", "Java")
    built = run([mvn, "-q", "-B", "-o", "-f", str(folder / "pom.xml"), "compile"])
    if built.returncode != 0 and any(word in built.stdout for word in NOT_DOWNLOADED):
        pytest.skip(
            "Java toolchain tier: the runner's dependencies are not in the local Maven "
            "repository (make install)"
        )
    assert built.returncode == 0, output(built)
    classpath = (folder / "target" / "classpath.txt").read_text().strip()
    target = folder / "target" / "classes"
    return [java, "-cp", f"{target}{os.pathsep}{classpath}", "com.acme.conformance.Runner"]


BUILDERS: dict[str, Callable[[], list[str]]] = {
    "python": python,
    "go": go,
    "typescript": typescript,
    "java": java,
}


class Runners:
    """Each language's runner, built on first use and once only (a skip is kept too)."""

    def __init__(self) -> None:
        self._built: dict[str, list[str] | BaseException] = {}

    def command(self, language: str) -> list[str]:
        if language not in self._built:
            try:
                self._built[language] = BUILDERS[language]()
            except (AssertionError, pytest.skip.Exception) as outcome:
                self._built[language] = outcome
        built = self._built[language]
        if isinstance(built, BaseException):
            raise built
        return built
