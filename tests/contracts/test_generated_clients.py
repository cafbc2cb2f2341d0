"""The generated clients of the other languages compile, offline, against the dependencies
that `make install` fetched: gen/go with `go build` and `go vet`, gen/ts with `tsc --noEmit`
(strict, with a usage check of Connect clients, error details and protovalidate in
gen/ts/check/), gen/java with `mvn -o compile`.

A toolchain or a dependency that is not installed skips its test naming the tier (with
CI=true, a failure). Marked slow: a first Go build compiles grpc (about half a minute
here); later runs reuse Go's build cache, Maven's incremental compile and tsc's speed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
GO = ROOT / "gen" / "go"
TS = ROOT / "gen" / "ts"
JAVA = ROOT / "gen" / "java"
TSC = ROOT / "platform" / "tools" / "npm" / "node_modules" / ".bin" / "tsc"
# Maven's words for an artifact that offline mode cannot get.
NOT_DOWNLOADED = ("offline mode", "has not been downloaded", "Could not resolve dependencies")


def run(command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        env={**os.environ, **env},
    )


def program(name: str, tier: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{tier} toolchain tier: {name} is not installed")
    return found


def output(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"


def test_the_go_module_builds_and_vets_offline() -> None:
    go = program("go", "Go")
    offline = {"GOPROXY": "off"}
    if run([go, "mod", "download"], GO, **offline).returncode != 0:
        pytest.skip("Go toolchain tier: gen/go's modules are not downloaded (make install)")

    build = run([go, "build", "./..."], GO, **offline)
    assert build.returncode == 0, output(build)
    vet = run([go, "vet", "./..."], GO, **offline)
    assert vet.returncode == 0, output(vet)
    listed = run([go, "list", "./..."], GO, **offline)
    assert "github.com/acme/platform/gen/go/acme/user/v1" in listed.stdout.split()


def test_the_typescript_package_type_checks_strictly() -> None:
    program("node", "TypeScript")
    if not TSC.is_file():
        pytest.skip("TypeScript toolchain tier: tsc is not installed (make install)")
    wanted = json.loads((TS / "package.json").read_text())["dependencies"]
    missing = [name for name in wanted if not (TS / "node_modules" / name).is_dir()]
    if missing:
        pytest.skip(f"TypeScript toolchain tier: gen/ts lacks {missing} (make install)")

    done = run([str(TSC), "--noEmit", "-p", str(TS)], ROOT)

    assert done.returncode == 0, output(done)
    config = json.loads(
        "\n".join(
            line
            for line in (TS / "tsconfig.json").read_text().splitlines()
            if not line.lstrip().startswith("//")
        )
    )
    assert config["compilerOptions"]["strict"] is True
    assert config["compilerOptions"]["noEmit"] is True


def test_the_java_module_compiles_offline() -> None:
    mvn = program("mvn", "Java")
    program("javac", "Java")

    done = run([mvn, "-q", "-B", "-o", "-f", str(JAVA / "pom.xml"), "compile"], ROOT)

    if done.returncode != 0 and any(word in done.stdout for word in NOT_DOWNLOADED):
        pytest.skip(
            "Java toolchain tier: gen/java's dependencies are not in the local Maven "
            "repository (make install)"
        )
    assert done.returncode == 0, output(done)
    classes = JAVA / "target" / "classes" / "com" / "acme" / "user" / "v1"
    assert (classes / "UserServiceGrpc.class").is_file()
    assert (classes / "CreateUserRequest.class").is_file()
