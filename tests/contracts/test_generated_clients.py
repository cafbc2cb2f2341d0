"""The generated clients of the other languages compile, offline, against the dependencies
that `make install` fetched: gen/go with `go build` and `go vet`; gen/ts compiled by tsc into
dist/ (JavaScript and declarations: what its `exports` name), imported by plain Node.js, and
type-checked strictly with a usage check of Connect clients, error details and protovalidate
(gen/ts/check/, which imports the package by its name, so through dist/'s declarations);
gen/java with `mvn -o compile`, and installed offline (`mvn -o install`, the README's
consumer step) into a copy of the local repository.

A toolchain or a dependency that is not installed skips its test naming the tier (with
CI=true, a failure). Marked slow: a first Go build compiles grpc (about half a minute
here); later runs reuse Go's build cache, Maven's incremental compile and tsc's speed.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests._gen_ts import build_gen_ts
from tests._toolchains import NOT_DOWNLOADED, output, program, run

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
GO = ROOT / "gen" / "go"
TS = ROOT / "gen" / "ts"
JAVA = ROOT / "gen" / "java"
TSC = ROOT / "platform" / "tools" / "npm" / "node_modules" / ".bin" / "tsc"


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


def _typescript_tier() -> None:
    program("node", "TypeScript")
    if not TSC.is_file():
        pytest.skip("TypeScript toolchain tier: tsc is not installed (make install)")
    wanted = json.loads((TS / "package.json").read_text())["dependencies"]
    missing = [name for name in wanted if not (TS / "node_modules" / name).is_dir()]
    if missing:
        pytest.skip(f"TypeScript toolchain tier: gen/ts lacks {missing} (make install)")


def test_the_typescript_package_builds_javascript_that_plain_node_imports() -> None:
    """gen/ts used to ship .ts sources only, its `exports` naming them: Node.js could not
    import it."""
    _typescript_tier()

    built = build_gen_ts(TSC)

    assert built.returncode == 0, output(built)
    exports = json.loads((TS / "package.json").read_text())["exports"]
    assert exports["./*.js"] == {"types": "./dist/*.d.ts", "default": "./dist/*.js"}
    assert (TS / "dist" / "acme" / "user" / "v1" / "user_service_pb.d.ts").is_file()
    script = (
        "const users = await import('@acme/api/acme/user/v1/user_service_pb.js');"
        "const rpc = await import('@acme/api/google/rpc/error_details_pb.js');"
        "console.log(users.UserService.typeName, rpc.BadRequestSchema.typeName);"
    )
    imported = run(["node", "--input-type=module", "-e", script], TS)  # the package by name
    assert imported.returncode == 0, output(imported)
    assert imported.stdout.split() == ["acme.user.v1.UserService", "google.rpc.BadRequest"]


def test_the_typescript_package_type_checks_strictly() -> None:
    _typescript_tier()
    built = build_gen_ts(TSC)  # check/ reads dist/'s declarations
    assert built.returncode == 0, output(built)

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


def test_connect_is_an_optional_peer_that_runs_on_node_20() -> None:
    """The generated code never imports @connectrpc/connect: it was a dependency at 2.2,
    whose Node transport needs Node.js 22."""
    package = json.loads((TS / "package.json").read_text())

    assert "@connectrpc/connect" not in package["dependencies"]
    assert package["peerDependencies"]["@connectrpc/connect"] == "~2.1.1"
    assert package["peerDependenciesMeta"]["@connectrpc/connect"] == {"optional": True}
    imports = {
        line
        for path in (TS / "src").rglob("*.ts")
        for line in path.read_text().splitlines()
        if "@connectrpc/" in line
    }
    assert imports == set()


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


# What Maven itself writes among a local repository's files (copied, not linked, into the
# test's repository: the copy's writes must not reach the original).
_MAVEN_WRITES = ("_remote.repositories", ".lastUpdated", "resolver-status.properties", ".xml")
_LEFT_OUT = {"com": ["acme"], "org/codehaus/plexus/plexus-utils": ["1.1"]}
_CONSUMER = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>example</groupId><artifactId>consumer</artifactId><version>1</version>
  <dependencyManagement><dependencies>
    <dependency><groupId>com.acme</groupId><artifactId>acme-api</artifactId>
      <version>0.1.0</version><type>pom</type><scope>import</scope></dependency>
  </dependencies></dependencyManagement>
  <dependencies>
    <dependency><groupId>com.acme</groupId><artifactId>acme-api</artifactId></dependency>
    <dependency><groupId>io.grpc</groupId><artifactId>grpc-api</artifactId></dependency>
  </dependencies>
  <build><plugins><plugin><groupId>org.apache.maven.plugins</groupId>
    <artifactId>maven-dependency-plugin</artifactId><version>3.9.0</version></plugin></plugins></build>
</project>
"""


def _local_repository_copy(into: Path) -> Path:
    """The user's local Maven repository as `make install` left it: without any installed
    com.acme artifact, and without plexus-utils 1.1, which Maven adds to old-style plugins
    at run time and which no `make install` step fetches (a repository has it only if some
    online build of another project needed it). Hard links, except the files Maven rewrites
    (copied)."""
    original = Path.home() / ".m2" / "repository"
    if not original.is_dir():
        pytest.skip("Java toolchain tier: no local Maven repository (make install)")

    def link(source: str, target: str) -> None:
        if source.endswith(_MAVEN_WRITES):
            shutil.copy2(source, target)
        else:
            os.link(source, target)

    copy = into / "repository"
    shutil.copytree(
        original,
        copy,
        copy_function=link,
        ignore=lambda folder, _: _LEFT_OUT.get(Path(folder).relative_to(original).as_posix(), []),
    )
    return copy


def _resolved(mvn: str, pom: Path, repository: Path, listing: Path) -> dict[str, str]:
    """``group:artifact`` -> version of every artifact ``pom`` resolves, offline."""
    offline = [mvn, "-q", "-B", "-o", f"-Dmaven.repo.local={repository}"]
    done = run([*offline, "-f", str(pom), "dependency:list", f"-DoutputFile={listing}"], ROOT)
    assert done.returncode == 0, output(done)
    found = {}
    for line in listing.read_text().splitlines():
        parts = line.strip().split(" ")[0].split(":")
        if len(parts) >= 5:
            found[f"{parts[0]}:{parts[1]}"] = parts[-2]
    return found


def test_the_java_module_installs_offline_and_is_its_consumers_bill_of_materials(
    tmp_path: Path,
) -> None:
    """The README's `mvn install` of gen/java failed offline after `make install` (Maven's
    plexus-utils for its plugins was never fetched); a consumer importing the installed pom
    gets the versions gen/java compiles against, io.grpc's included, without naming them."""
    mvn = program("mvn", "Java")
    program("javac", "Java")
    repository = _local_repository_copy(tmp_path)

    if not (repository / "io" / "grpc" / "grpc-stub" / "1.85.1").is_dir():
        pytest.skip("Java toolchain tier: gen/java's dependencies are not fetched (make install)")

    offline = [mvn, "-q", "-B", "-o", f"-Dmaven.repo.local={repository}"]
    installed = run([*offline, "-f", str(JAVA / "pom.xml"), "install"], ROOT)

    assert installed.returncode == 0, output(installed)
    assert (repository / "com" / "acme" / "acme-api" / "0.1.0" / "acme-api-0.1.0.jar").is_file()
    consumer = tmp_path / "consumer" / "pom.xml"
    consumer.parent.mkdir()
    consumer.write_text(_CONSUMER)
    ours = _resolved(mvn, JAVA / "pom.xml", repository, tmp_path / "ours.txt")
    theirs = _resolved(mvn, consumer, repository, tmp_path / "theirs.txt")
    assert theirs["io.grpc:grpc-api"] == "1.85.1"  # no version named: the imported BOM's
    assert {name: theirs[name] for name in ours} == ours
