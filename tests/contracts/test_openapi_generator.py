"""protoc-gen-openapi: the REST face generated from the contracts.

The fixture package under `testdata/openapi/proto` exercises every feature once; its
document is compared with `testdata/openapi/golden.yaml`, which is the specification of
the generator's output (review it by eye when it changes). The real contracts are checked
for the promises the services and the gateway rely on.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from buf.validate import validate_pb2
from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2
from openapi_spec_validator import validate

from acme.user.v1 import user_service_pb2
from contractkit.buf import plugin_path
from contractkit.descriptors import Options, iter_methods
from contractkit.openapi_lint import lint_document
from contractkit.openapigen import parse_settings
from contractkit.openapigen.comments import Comments
from contractkit.openapigen.constraints import zero_admitted
from contractkit.openapigen.document import HEADER
from contractkit.openapigen.pathtemplate import parse_template
from contractkit.openapigen.stringrules import EMAIL_PATTERN
from contractkit.plugins._io import PluginError
from contractkit.plugins.openapi import generate
from contractkit.thirdparty import materialise
from tests.contracts._buf import buf_binary

REPO = Path(__file__).resolve().parents[2]
TESTDATA = Path(__file__).parent / "testdata" / "openapi"
GOLDEN = TESTDATA / "golden.yaml"
FIXTURE_PARAMETER = "file=library.openapi.yaml,title=Library API,version=1.0.0"
ACCESS_PROTO = "acme/options/v1/access.proto"


# --- building requests ------------------------------------------------------------------


@pytest.fixture(scope="module")
def thirdparty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The third-party protos, materialised for these tests only."""
    path = tmp_path_factory.mktemp("thirdparty")
    materialise(path)
    return path


def _workspace(root: Path, thirdparty: Path, modules: Mapping[str, Path]) -> Path:
    """A buf workspace at `root`: each module a copy of a folder, plus the access options
    and the third-party protos."""
    for name, source in modules.items():
        shutil.copytree(source, root / name)
    (root / "options" / ACCESS_PROTO).parent.mkdir(parents=True)
    shutil.copy2(REPO / "api" / "proto" / ACCESS_PROTO, root / "options" / ACCESS_PROTO)
    shutil.copytree(thirdparty, root / "thirdparty")
    lines = ["version: v2", "modules:"]
    lines += [f"  - path: {name}" for name in [*modules, "options", "thirdparty"]]
    (root / "buf.yaml").write_text("\n".join(lines) + "\n")
    return root


def _request(root: Path, own: str, parameter: str) -> plugin_pb2.CodeGeneratorRequest:
    """The request buf would send for the files of module `own` of the workspace."""
    result = subprocess.run(
        [buf_binary(), "build", "-o", "-#format=binpb"], cwd=root, capture_output=True, check=False
    )
    assert result.returncode == 0, result.stderr.decode()
    files = list(descriptor_pb2.FileDescriptorSet.FromString(result.stdout).file)
    mine = {p.relative_to(root / own).as_posix() for p in (root / own).rglob("*.proto")}
    return plugin_pb2.CodeGeneratorRequest(
        file_to_generate=[f.name for f in files if f.name in mine],
        proto_file=files,
        parameter=parameter,
    )


@pytest.fixture(scope="module")
def fixture_workspace(tmp_path_factory: pytest.TempPathFactory, thirdparty: Path) -> Path:
    root = tmp_path_factory.mktemp("fixture")
    return _workspace(root, thirdparty, {"library": TESTDATA / "proto"})


@pytest.fixture(scope="module")
def fixture_request(fixture_workspace: Path) -> plugin_pb2.CodeGeneratorRequest:
    return _request(fixture_workspace, "library", FIXTURE_PARAMETER)


@pytest.fixture(scope="module")
def real_request(
    tmp_path_factory: pytest.TempPathFactory, thirdparty: Path
) -> plugin_pb2.CodeGeneratorRequest:
    root = tmp_path_factory.mktemp("contracts")
    shutil.copytree(REPO / "api" / "proto", root / "api", ignore=shutil.ignore_patterns("*.yaml"))
    shutil.copytree(thirdparty, root / "thirdparty")
    (root / "buf.yaml").write_text("version: v2\nmodules:\n  - path: api\n  - path: thirdparty\n")
    return _request(root, "api", "file=acme.openapi.yaml,title=Acme Platform API,version=v1")


def _content(request: plugin_pb2.CodeGeneratorRequest) -> str:
    response = generate(request)
    assert not response.error, response.error
    assert len(response.file) == 1
    return response.file[0].content


@pytest.fixture(scope="module")
def real_document(real_request: plugin_pb2.CodeGeneratorRequest) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(_content(real_request))
    return document


def _deref(document: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in node:
        node = document["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _operations(document: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    for path, item in document["paths"].items():
        for verb, operation in item.items():
            yield path, verb, operation


# --- the fixture package: golden file -----------------------------------------------------


def test_the_fixture_document_matches_the_golden_file(fixture_request) -> None:
    content = _content(fixture_request)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(content, encoding="utf-8")
    expected = GOLDEN.read_text(encoding="utf-8") if GOLDEN.exists() else ""

    assert content == expected, (
        f"{GOLDEN.relative_to(REPO)} is not what the generator writes today. If the change "
        "is intended, rewrite it with `UPDATE_GOLDEN=1 pytest "
        "tests/contracts/test_openapi_generator.py` and review the diff: it is the spec."
    )


def test_the_golden_document_is_valid_openapi_3_0_and_passes_the_house_lint() -> None:
    document = yaml.safe_load(GOLDEN.read_text(encoding="utf-8"))

    validate(document)
    assert document["openapi"] == "3.0.3"
    assert lint_document(document, "golden.yaml") == []


def test_the_document_is_named_and_titled_by_the_plugin_parameters(fixture_request) -> None:
    response = generate(fixture_request)

    assert response.file[0].name == "library.openapi.yaml"
    assert response.file[0].content.startswith(HEADER)
    info = yaml.safe_load(response.file[0].content)["info"]
    assert (info["title"], info["version"]) == ("Library API", "1.0.0")
    assert response.supported_features == plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL


def test_generating_twice_gives_the_same_bytes(fixture_request) -> None:
    assert _content(fixture_request) == _content(fixture_request)


# --- the real contracts ---------------------------------------------------------------------


def test_the_real_document_is_valid_openapi_3_0_and_passes_the_house_lint(real_document) -> None:
    validate(real_document)
    assert lint_document(real_document, "acme.openapi.yaml") == []


def test_every_rpc_with_an_http_rule_is_an_operation_named_by_its_full_name(
    real_request,
    real_document,
) -> None:
    options = Options(real_request.proto_file)
    own = set(real_request.file_to_generate)
    bound = {
        f"{file.package}.{service.name}.{method.name}"
        for file, service, method in iter_methods(real_request.proto_file)
        if file.name in own and options.get(method.options, "google.api.http") is not None
    }
    operation_ids = {op["operationId"] for _, _, op in _operations(real_document)}

    assert "acme.user.v1.UserService.GetUser" in bound
    assert operation_ids == bound
    assert "acme.user.v1.UserService.VerifyCredentials" not in operation_ids


def test_create_user_requires_a_bounded_email_and_a_long_write_only_password(
    real_document,
) -> None:
    body = real_document["paths"]["/v1/users"]["post"]["requestBody"]
    schema = _deref(real_document, body["content"]["application/json"]["schema"])
    email, password = schema["properties"]["email"], schema["properties"]["password"]

    assert body["required"] is True
    assert {"email", "password"} <= set(schema["required"])
    assert (email["pattern"], email["maxLength"]) == (EMAIL_PATTERN, 254)
    assert password["minLength"] == 12
    assert password["writeOnly"] is True


def test_list_users_page_size_is_bounded_and_defaults_to_twenty(real_document) -> None:
    parameters = real_document["paths"]["/v1/users"]["get"]["parameters"]
    page_size = next(p for p in parameters if p["name"] == "pageSize")

    assert page_size["in"] == "query"
    assert (page_size["schema"]["minimum"], page_size["schema"]["maximum"]) == (0, 100)
    assert page_size["schema"]["default"] == 20


def test_a_request_field_whose_rules_skip_its_zero_value_admits_it_beside_them(
    real_document,
) -> None:
    """ListUsers' `email` filter skips its rules when empty: a tool generating requests
    must not take "" for an invalid value (schemathesis' st run reported its acceptance)."""
    parameters = real_document["paths"]["/v1/users"]["get"]["parameters"]
    email = next(p for p in parameters if p["name"] == "email")["schema"]
    user = real_document["components"]["schemas"]["acme.user.v1.User"]["properties"]

    assert email["pattern"] == f"^$|(?:{EMAIL_PATTERN})"
    accepted = [
        value for value in ("", "ada@example.com", "ada@") if re.search(email["pattern"], value)
    ]
    assert accepted == ["", "ada@example.com"]
    # A message that responses carry keeps its constraints: they say what the server sends.
    assert user["email"]["pattern"] == EMAIL_PATTERN


def test_a_rule_skipping_the_zero_value_that_no_pattern_states_admits_it_in_an_any_of() -> None:
    """A format without a pattern of its own cannot fold the zero value into a pattern."""
    schema = {"type": "string", "format": "hostname", "minLength": 3}
    rules = validate_pb2.FieldRules(ignore=validate_pb2.IGNORE_IF_ZERO_VALUE)
    field = user_service_pb2.ListUsersRequest.DESCRIPTOR.fields_by_name["page_token"]

    assert zero_admitted(schema, field, rules) == {
        "type": "string",  # beside the anyOf: tools read a parameter's type there
        "anyOf": [{"format": "hostname", "minLength": 3}, {"enum": [""]}],
    }
    assert zero_admitted({"type": "string", "minLength": 3}, field, rules) == {
        "type": "string",
        "pattern": "^$|^[\\s\\S]{3,}$",
    }


def test_update_user_takes_the_user_as_body_and_the_update_mask_as_query(real_document) -> None:
    operation = real_document["paths"]["/v1/users/{id}"]["patch"]
    parameters = {(p["in"], p["name"]): p for p in operation["parameters"]}
    body = operation["requestBody"]["content"]["application/json"]["schema"]

    assert parameters[("path", "id")]["required"] is True
    assert parameters[("path", "id")]["x-acme-field-path"] == "user.id"
    assert parameters[("query", "updateMask")]["schema"]["type"] == "string"
    mask = re.compile(parameters[("query", "updateMask")]["schema"]["pattern"])
    tried = ("displayName,roles", "email", "roles.x", "password", "", "displayName,")
    assert [m for m in tried if mask.match(m)] == ["displayName,roles", "email", "roles.x"]
    assert body == {"$ref": "#/components/schemas/acme.user.v1.User"}


def test_descriptions_say_only_what_is_true_of_the_operation(real_document) -> None:
    """A path segment is never empty, so no path parameter says its zero value is accepted
    (UpdateUser's `user.id` skips its rules when empty, in the body); the mask's help
    names no field the resource lacks, and its example is one of the allowed paths."""
    operation = real_document["paths"]["/v1/users/{id}"]["patch"]
    parameters = {(p["in"], p["name"]): p for p in operation["parameters"]}
    mask = parameters[("query", "updateMask")]
    path_texts = [
        p.get("description", "")
        for _, _, op in _operations(real_document)
        for p in op.get("parameters", [])
        if p["in"] == "path"
    ]

    assert not [text for text in path_texts if "zero value" in text]
    assert "address" not in mask["description"]
    assert re.fullmatch(mask["schema"]["pattern"], mask["schema"]["example"])


def test_the_request_examples_are_valid_and_consistent_with_each_other(real_document) -> None:
    """What Swagger UI fills in: sign-up, then sign-in as that user with the login
    example; an empty request id and etag (no idempotency key shared by every reader of
    the document, no stale etag)."""
    schemas = real_document["components"]["schemas"]

    def examples(name: str) -> dict[str, Any]:
        properties = schemas[name]["properties"]
        return {key: value["example"] for key, value in properties.items() if "example" in value}

    create = examples("acme.user.v1.CreateUserRequest")
    login = examples("acme.auth.v1.LoginRequest")
    user = examples("acme.user.v1.User")

    assert create["email"] == login["email"] == user["email"]
    assert create["password"] == login["password"]
    assert (
        len(create["password"])
        >= schemas["acme.user.v1.CreateUserRequest"]["properties"]["password"]["minLength"]
    )
    assert create["requestId"] == user["etag"] == ""
    assert create["displayName"] == user["displayName"]


def test_path_parameters_are_identifiers_that_name_their_field_path(real_document) -> None:
    """Tools fill templates with `str.format` and route them by identifier (schemathesis
    crashed on `{user.id}` with KeyError 'user'): the field path is the extension."""
    found = {
        (verb, path, p["name"], p["x-acme-field-path"])
        for path, verb, operation in _operations(real_document)
        for p in operation.get("parameters", [])
        if p["in"] == "path"
    }

    # Every service's (a new one's too: `make new-service`); the user service's exactly.
    assert all(name.isidentifier() for _, _, name, _ in found)
    assert {item for item in found if item[1].startswith("/v1/users/")} == {
        ("get", "/v1/users/{id}", "id", "id"),
        ("delete", "/v1/users/{id}", "id", "id"),
        ("patch", "/v1/users/{id}", "id", "user.id"),
    }


def test_templates_of_one_shape_share_a_path_named_by_the_first(
    tmp_path: Path, thirdparty: Path
) -> None:
    source = tmp_path / "shapes"
    (source / "shapes" / "v1").mkdir(parents=True)
    (source / "shapes" / "v1" / "shapes.proto").write_text(_SHAPES)
    root = _workspace(tmp_path / "ws", thirdparty, {"shapes": source})

    document = yaml.safe_load(_content(_request(root, "shapes", "")))

    assert list(document["paths"]) == ["/v1/things/{thingId}", "/v1/{shelfName}/{bookName}"]
    item = document["paths"]["/v1/things/{thingId}"]
    assert [(p["name"], p["x-acme-field-path"]) for p in item["patch"]["parameters"][:1]] == [
        ("thingId", "thing.code")
    ]
    pair = document["paths"]["/v1/{shelfName}/{bookName}"]["get"]["parameters"]
    assert [(p["name"], p["x-acme-field-path"]) for p in pair] == [
        ("shelfName", "shelf.name"),
        ("bookName", "book.name"),
    ]
    assert lint_document(document, "shapes.yaml") == []


_SHAPES = """
syntax = "proto3";
// Shapes.
package shapes.v1;
import "google/api/annotations.proto";
// Things.
service Things {
  // Get.
  rpc Get(GetRequest) returns (Thing) {
    option (google.api.http) = {get: "/v1/things/{thing_id}"};
  }
  // Update.
  rpc Update(UpdateRequest) returns (Thing) {
    option (google.api.http) = {patch: "/v1/things/{thing.code}" body: "thing"};
  }
  // Pair.
  rpc Pair(PairRequest) returns (Thing) {
    option (google.api.http) = {get: "/v1/{shelf.name}/{book.name}"};
  }
}
// A thing.
message Thing {
  // Its code.
  string code = 1;
}
// A named thing.
message Named {
  // Its name.
  string name = 1;
}
// Get.
message GetRequest {
  // Which.
  string thing_id = 1;
}
// Update.
message UpdateRequest {
  // The thing.
  Thing thing = 1;
}
// Pair.
message PairRequest {
  // A shelf.
  Named shelf = 1;
  // A book.
  Named book = 2;
}
"""


def test_get_user_needs_a_bearer_token_and_login_needs_none(real_document) -> None:
    get_user = real_document["paths"]["/v1/users/{id}"]["get"]
    login = real_document["paths"]["/v1/auth/login"]["post"]

    assert get_user["security"] == [{"bearerAuth": []}]
    assert {"401", "403", "404"} <= set(get_user["responses"])
    assert get_user["x-access-policy"] == {"roles": ["admin", "auditor"], "owner_field": "id"}
    assert login["security"] == []
    assert not {"401", "403"} & set(login["responses"])
    assert real_document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_errors_are_problem_details(real_document) -> None:
    responses = real_document["components"]["responses"]
    delete_user = real_document["paths"]["/v1/users/{id}"]["delete"]["responses"]

    assert set(delete_user) == {"200", "400", "401", "403", "404", "409", "429", "503", "default"}
    for response in responses.values():
        assert response["content"]["application/problem+json"]["schema"] == {
            "$ref": "#/components/schemas/Problem"
        }


def test_one_run_on_the_real_contracts_decodes_and_indexes_each_file_once(
    real_request, monkeypatch: pytest.MonkeyPatch
) -> None:
    pooled: Counter[str] = Counter()
    indexed: Counter[str] = Counter()
    build_pool, build_index = Options.__post_init__, Comments.__init__

    def counting_pool(options: Options) -> None:
        options.files = list(options.files)
        pooled.update(file.name for file in options.files)
        build_pool(options)

    def counting_index(
        comments: Comments, files: Iterable[descriptor_pb2.FileDescriptorProto]
    ) -> None:
        files = list(files)
        indexed.update(file.name for file in files)
        build_index(comments, files)

    monkeypatch.setattr(Options, "__post_init__", counting_pool)
    monkeypatch.setattr(Comments, "__init__", counting_index)

    generate(real_request)

    each_once = Counter(file.name for file in real_request.proto_file)
    assert pooled == indexed == each_once  # how long one run takes: `make bench`


# --- buf compatibility ------------------------------------------------------------------------


@pytest.mark.slow
def test_buf_generate_runs_the_plugin_and_writes_what_generate_returns(
    tmp_path: Path,
    thirdparty: Path,
    fixture_request,
) -> None:
    root = _workspace(tmp_path / "ws", thirdparty, {"library": TESTDATA / "proto"})
    (root / "buf.gen.yaml").write_text(
        "version: v2\n"
        "inputs:\n  - directory: .\n    paths: [library/library]\n"
        "plugins:\n"
        f"  - local: [{sys.executable}, -m, contractkit.plugins.openapi]\n"
        "    out: out\n    strategy: all\n"
        "    opt:\n      - file=library.openapi.yaml\n      - title=Library API\n"
        "      - version=1.0.0\n"
    )
    result = subprocess.run(
        [buf_binary(), "generate"], cwd=root, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    written = (root / "out" / "library.openapi.yaml").read_text(encoding="utf-8")
    assert written == _content(fixture_request)


@pytest.mark.slow
def test_buf_reports_a_plugin_error_with_its_message(tmp_path: Path, thirdparty: Path) -> None:
    root = _workspace(tmp_path / "ws", thirdparty, {"library": TESTDATA / "proto"})
    (root / "buf.gen.yaml").write_text(
        "version: v2\n"
        "plugins:\n"
        f"  - local: [{sys.executable}, -m, contractkit.plugins.openapi]\n"
        "    out: out\n    strategy: all\n    opt: colour=blue\n"
    )
    result = subprocess.run(
        [buf_binary(), "generate"], cwd=root, capture_output=True, text=True, check=False
    )

    assert result.returncode != 0
    assert "unknown parameter 'colour'" in result.stderr


def test_files_that_bind_no_rpc_to_http_produce_no_document(real_request) -> None:
    request = plugin_pb2.CodeGeneratorRequest()
    request.CopyFrom(real_request)
    del request.file_to_generate[:]
    request.file_to_generate.append(ACCESS_PROTO)

    assert list(generate(request).file) == []


@pytest.mark.slow
def test_the_repository_generation_writes_the_document_of_the_contracts(
    tmp_path: Path,
    thirdparty: Path,
) -> None:
    """buf runs a `strategy: all` plugin once per input of buf.gen.yaml: the input of
    third-party protos must not replace the contracts' document with an empty one."""
    for name in ("buf.yaml", "buf.gen.yaml"):
        shutil.copy2(REPO / name, tmp_path / name)
    shutil.copytree(REPO / "api" / "proto", tmp_path / "api" / "proto")
    shutil.copytree(thirdparty, tmp_path / ".thirdparty" / "proto")
    # Every plugin of buf.gen.yaml (the other languages' too) by name, as `make` finds them.
    env = {**os.environ, "PATH": plugin_path()}
    result = subprocess.run(
        [buf_binary(), "generate"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )

    assert result.returncode == 0, result.stderr
    documents = list((tmp_path / "api" / "openapi").glob("*.yaml"))
    assert [d.name for d in documents] == ["acme.openapi.yaml"]
    document = yaml.safe_load(documents[0].read_text(encoding="utf-8"))
    assert document["info"]["title"] == "Acme Platform API"
    assert {"/v1/users", "/v1/auth/login"} <= set(document["paths"])


# --- refusals -------------------------------------------------------------------------------

_CLASH = """\
syntax = "proto3";
package clash.v1;
import "google/api/annotations.proto";
// Two RPCs on one route.
service ClashService {
  // First.
  rpc GetShelf(GetRequest) returns (GetRequest) {
    option (google.api.http) = {get: "/v1/{name=shelves/*}"};
  }
  // Second.
  rpc GetBook(GetRequest) returns (GetRequest) {
    option (google.api.http) = {get: "/v1/{name=shelves/*/books/*}"};
  }
}
// A request.
message GetRequest {
  // A name.
  string name = 1;
}
"""


def test_two_rpcs_bound_to_the_same_route_are_refused(tmp_path: Path, thirdparty: Path) -> None:
    source = tmp_path / "clash"
    (source / "clash" / "v1").mkdir(parents=True)
    (source / "clash" / "v1" / "clash.proto").write_text(_CLASH)
    root = _workspace(tmp_path / "ws", thirdparty, {"clash": source})

    with pytest.raises(PluginError, match=r"GET /v1/\{name\} is bound by both"):
        generate(_request(root, "clash", ""))


@pytest.mark.parametrize("parameter", ["colour=blue", "title", "file=../outside.yaml"])
def test_bad_plugin_parameters_are_refused(parameter: str) -> None:
    with pytest.raises(PluginError):
        parse_settings(parameter)


@pytest.mark.parametrize("template", ["v1/users", "/v1/*/users", "/v1/{name=shelves/*}/{name}"])
def test_path_templates_that_openapi_cannot_name_are_refused(template: str) -> None:
    with pytest.raises(PluginError):
        parse_template(template)


def test_a_segment_variable_becomes_one_parameter_with_a_pattern() -> None:
    template = parse_template("/v1/{name=shelves/*/books/**}:move")

    assert template.path == "/v1/{name}:move"
    assert [v.pattern for v in template.variables] == ["^shelves/[^/]+/books/.+$"]
