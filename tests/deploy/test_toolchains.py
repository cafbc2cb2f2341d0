"""The other languages' tools are installed by `make install` at the versions their pin files
name (platform/tools/: go.mod, package-lock.json, pom.xml), so every machine generates and
builds with the same ones. A tool that is missing says which toolchain tier it belongs to."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "platform" / "tools"
BIN = ROOT / ".tools" / "bin"
NPM_BIN = TOOLS / "npm" / "node_modules" / ".bin"


def version_of(program: Path, tier: str, *arguments: str) -> str:
    if not program.is_file():
        pytest.skip(f"{tier} toolchain tier: {program.name} is not installed (make install)")
    done = subprocess.run(
        [str(program), *arguments], capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.strip()


def go_pin(module: str) -> str:
    text = (TOOLS / "go" / "go.mod").read_text()
    found = re.search(rf"^\s*{re.escape(module)} (v\S+)", text, re.MULTILINE)
    assert found, f"go.mod pins no {module}"
    return found[1]


def npm_pin(package: str) -> str:
    lock = json.loads((TOOLS / "npm" / "package-lock.json").read_text())
    pinned: str = lock["packages"][f"node_modules/{package}"]["version"]
    return pinned


def maven_property(name: str) -> str:
    namespace = {"m": "http://maven.apache.org/POM/4.0.0"}
    pom = ET.parse(TOOLS / "maven" / "pom.xml")  # noqa: S314 - our own file
    found = pom.find(f"m:properties/m:{name}", namespace)
    assert found is not None
    assert found.text
    return found.text


def test_the_go_plugins_are_the_versions_of_the_go_tools_module() -> None:
    go = version_of(BIN / "protoc-gen-go", "Go", "--version")
    grpc = version_of(BIN / "protoc-gen-go-grpc", "Go", "--version")

    assert go == f"protoc-gen-go {go_pin('google.golang.org/protobuf')}"
    assert (
        grpc == f"protoc-gen-go-grpc {go_pin('google.golang.org/grpc/cmd/protoc-gen-go-grpc')[1:]}"
    )


def test_the_npm_tools_are_the_versions_of_the_lockfile() -> None:
    es = version_of(NPM_BIN / "protoc-gen-es", "TypeScript", "--version")
    tsc = version_of(NPM_BIN / "tsc", "TypeScript", "-v")

    assert es == f"protoc-gen-es v{npm_pin('@bufbuild/protoc-gen-es')}"
    assert tsc == f"Version {npm_pin('typescript')}"


def test_the_openapi_tools_are_the_versions_of_their_pins() -> None:
    typescript = version_of(NPM_BIN / "openapi-typescript", "TypeScript", "--version")
    jar = ROOT / ".tools" / "lib" / "openapi-generator-cli.jar"
    if not jar.is_file():
        pytest.skip("Java toolchain tier: openapi-generator-cli is not installed (make install)")
    generator = version_of(
        Path(shutil.which("java") or "java"), "Java", "-jar", str(jar), "version"
    )

    assert typescript == f"v{npm_pin('openapi-typescript')}"
    assert generator == maven_property("openapi-generator.version")
    fetch = json.loads(
        (TOOLS / "npm" / "node_modules" / "openapi-fetch" / "package.json").read_text()
    )
    assert fetch["version"] == npm_pin("openapi-fetch")


def test_protoc_is_the_version_of_the_maven_pom() -> None:
    found = version_of(BIN / "protoc", "Java", "--version")

    # Maven Central's protoc 4.36.2 is protobuf 36.2 (the Java runtime's major comes first).
    assert found == f"libprotoc {maven_property('protoc.version').split('.', 1)[1]}"


def test_protoc_and_the_grpc_java_plugin_generate_a_stub_of_the_pinned_version(
    tmp_path: Path,
) -> None:
    for program in ("protoc", "protoc-gen-grpc-java"):
        if not (BIN / program).is_file():
            pytest.skip(f"Java toolchain tier: {program} is not installed (make install)")
    (tmp_path / "ping.proto").write_text(
        'syntax = "proto3";\npackage ping;\nmessage Ping {}\n'
        "service Pinger { rpc Send(Ping) returns (Ping); }\n"
    )
    out = tmp_path / "java"
    out.mkdir()
    subprocess.run(
        [
            str(BIN / "protoc"),
            f"--plugin=protoc-gen-grpc-java={BIN / 'protoc-gen-grpc-java'}",
            f"--java_out={out}",
            f"--grpc-java_out=@generated=javax:{out}",  # stamps the plugin's version
            f"-I{tmp_path}",
            "ping.proto",
        ],
        check=True,
        timeout=60,
    )

    stub = next(out.rglob("PingerGrpc.java")).read_text()
    assert f"(version {maven_property('grpc.version')})" in stub
