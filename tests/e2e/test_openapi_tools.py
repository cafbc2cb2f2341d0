"""The REST face with mainstream OpenAPI tools, unmodified, against one live `make up` stack.

The document the gateway serves (``/openapi.json``) is handed, with no edit, to:

- schemathesis' command line (``st run``, its default checks and phases): it finds nothing
  (exit 0);
- openapi-typescript, whose types a strict TypeScript client of openapi-fetch compiles
  against (tsc, the pinned one) and then runs on Node.js: register, sign in, read yourself;
- openapi-generator (its jar from Maven Central): a Java client (library ``native``) that
  javac compiles offline against the jars `make install` fetched, and a program of it that
  does the same.

The client programs are ``openapi_tools/client.ts`` and ``openapi_tools/RestClient.java``;
each prints one JSON line, and also sends one bad request to show the REST face's problem
document through the generated types (an empty display name: ``displayName/required``).
A tool or toolchain that is not installed skips its test naming the tier (with CI=true, a
failure).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from tests._toolchains import output, program
from tests._toolchains import run as run_command
from tests.conformance._stack import Stack, make_up

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent / "openapi_tools"
NPM_TOOLS = REPO / "platform" / "tools" / "npm" / "node_modules"
TOOLS_LIB = REPO / ".tools" / "lib"
GENERATOR = TOOLS_LIB / "openapi-generator-cli.jar"
CLIENT_JARS = TOOLS_LIB / "openapi-java-client"
PASSWORD = "correct horse battery"
EXPECTED_REFUSAL = {"status": 400, "violations": ["displayName/required"]}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """`make up` on free ports; no rate limits (every tool signs up from 127.0.0.1)."""
    settings = {"GATEWAY_RATE_LIMITS__ENABLED": "false"}
    with make_up(tmp_path_factory.mktemp("openapi-tools"), settings) as running:
        yield running


@pytest.fixture(scope="module")
def base_url(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.env['GATEWAY_HTTP__PORT']}"


def run(command: list[str], cwd: Path, environ: Mapping[str, str] | None = None) -> str:
    """Runs ``command``; its output, or a failure showing it."""
    done = run_command(command, cwd, environ)
    assert done.returncode == 0, output(done)
    return done.stdout


def assert_session(printed: str) -> None:
    """A client's JSON line: the user it registered read back, and the refusal."""
    answer = json.loads(printed.strip().splitlines()[-1])
    assert uuid.UUID(answer.pop("id"))
    assert answer == {"displayName": "Ada", **EXPECTED_REFUSAL}


def swagger_sample(document: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The request body Swagger UI fills in for schema `name`: every property a request
    may send (not read-only), its `example`, Swagger UI's sample UUID for a UUID, or an
    enum's first value for an array of one."""
    properties = document["components"]["schemas"][name]["properties"]
    sample: dict[str, Any] = {}
    for key, schema in properties.items():
        if schema.get("readOnly"):
            continue
        if "example" in schema:
            sample[key] = schema["example"]
        elif schema.get("format") == "uuid":
            sample[key] = "3fa85f64-5717-4562-b3fc-2c963f66afa6"  # Swagger UI's sample UUID
        elif schema.get("type") == "array" and "enum" in schema.get("items", {}):
            sample[key] = [schema["items"]["enum"][0]]
        else:
            raise AssertionError(f"Swagger UI would send a placeholder for {name}.{key}")
    return sample


def test_swagger_uis_examples_sign_up_sign_in_and_change_a_user(base_url: str) -> None:
    """Try it out, as is: CreateUser's example makes a user, Login's example signs that
    user in, and UpdateUser's examples (the path's id aside) change it. First in this
    module: `st run` below tries the examples too, and its failed sign-ins would lock
    the account out for this client."""
    document = httpx.get(f"{base_url}/openapi.json", timeout=10).json()
    user_schema = "acme.user.v1.User"

    created = httpx.post(
        f"{base_url}/v1/users",
        json=swagger_sample(document, "acme.user.v1.CreateUserRequest"),
        timeout=10,
    )
    login = httpx.post(
        f"{base_url}/v1/auth/login",
        json=swagger_sample(document, "acme.auth.v1.LoginRequest"),
        timeout=10,
    )
    assert created.status_code == 200, created.text
    assert login.status_code == 200, login.text
    token = login.json()["accessToken"]
    mask = next(
        p
        for p in document["paths"]["/v1/users/{id}"]["patch"]["parameters"]
        if p["name"] == "updateMask"
    )
    changed = httpx.patch(
        f"{base_url}/v1/users/{_subject(token)}",
        params={"updateMask": mask["schema"]["example"]},
        json=swagger_sample(document, user_schema),
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )

    assert changed.status_code == 200, changed.text
    assert changed.json()["displayName"] == "Ada Lovelace"


def _without_coverage(environ: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in environ.items() if not name.startswith("COVERAGE_")}


def test_schemathesis_command_line_finds_nothing_with_its_default_checks(
    base_url: str, tmp_path: Path
) -> None:
    """`st run` used to crash on `/v1/users/{user.id}` (KeyError: 'user'); then it found
    the document open to unknown fields, masks and emails the rules refuse, and 405s that
    named half of a path's methods. Bounded (30 cases an operation and phase) and seeded,
    so that a finding reproduces."""
    st = REPO / ".venv" / "bin" / "st"

    run(
        [str(st), "run", f"{base_url}/openapi.json", "--max-examples", "30", "--seed", "1"],
        tmp_path,  # st keeps its cache in the folder it runs in
        # st runs none of this repository's code: measuring its coverage only slows it down.
        {**_without_coverage(os.environ), "NO_COLOR": "1"},
    )


def test_openapi_typescript_types_an_openapi_fetch_client_that_runs_a_session(
    base_url: str, tmp_path: Path
) -> None:
    node = program("node", "TypeScript")
    bin_dir = NPM_TOOLS / ".bin"
    if not (bin_dir / "openapi-typescript").is_file() or not (NPM_TOOLS / "openapi-fetch").is_dir():
        pytest.skip("TypeScript toolchain tier: openapi-typescript is not installed (make install)")
    (tmp_path / "node_modules").symlink_to(NPM_TOOLS, target_is_directory=True)
    for name in ("client.ts", "tsconfig.json", "package.json"):
        shutil.copy2(HERE / name, tmp_path / name)

    run([str(bin_dir / "openapi-typescript"), f"{base_url}/openapi.json", "-o", "api.ts"], tmp_path)
    run([str(bin_dir / "tsc"), "-p", "."], tmp_path)
    printed = run(
        [node, "out/client.js", base_url, f"ts-{uuid.uuid4().hex[:8]}@example.com"], tmp_path
    )

    assert_session(printed)


def test_openapi_generator_writes_a_java_client_that_compiles_offline_and_runs_a_session(
    base_url: str, tmp_path: Path
) -> None:
    java, javac = program("java", "Java"), program("javac", "Java")
    if not GENERATOR.is_file() or not any(CLIENT_JARS.glob("*.jar")):
        pytest.skip("Java toolchain tier: openapi-generator-cli is not installed (make install)")
    client, classes = tmp_path / "client", tmp_path / "classes"

    run(
        [
            java,
            "-jar",
            str(GENERATOR),
            "generate",
            "--generator-name",
            "java",
            "--library",
            "native",
            "--input-spec",
            f"{base_url}/openapi.json",
            "--output",
            str(client),
            "--invoker-package",
            "com.acme.rest",
            "--api-package",
            "com.acme.rest.api",
            "--model-package",
            "com.acme.rest.model",
            # Jakarta annotations; no toUrlQueryString in the models (its code for a set of
            # enum values does not compile: an openapi-generator bug, no use to a client).
            "--additional-properties",
            "useJakartaEe=true,hideGenerationTimestamp=true,supportUrlQuery=false",
        ],
        tmp_path,
    )
    sources = sorted(str(path) for path in (client / "src" / "main" / "java").rglob("*.java"))
    classpath = f"{classes}{os.pathsep}{CLIENT_JARS / '*'}"
    run(
        [
            javac,
            "-nowarn",
            "-d",
            str(classes),
            "-cp",
            classpath,
            *sources,
            str(HERE / "RestClient.java"),
        ],
        tmp_path,
    )
    printed = run(
        [
            java,
            "-cp",
            classpath,
            "RestClient",
            base_url,
            f"java-{uuid.uuid4().hex[:8]}@example.com",
        ],
        tmp_path,
    )

    assert_session(printed)


def _subject(token: str) -> str:
    """The user a JWT is about (its `sub`), read without checking it: the server does."""
    return str(jwt.decode(token, options={"verify_signature": False})["sub"])
