"""Third-party protos: the descriptor printer and the materialised ``.thirdparty`` folder."""

from __future__ import annotations

import importlib.resources
import re
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf.descriptor_pb2 import FileDescriptorProto

from contractkit import thirdparty
from contractkit.protoprint import print_file
from tests.contracts._buf import build, build_dir, canonical, file_named

SHOP = """\
syntax = "proto3";

package acme.shop.v1;

import "google/protobuf/timestamp.proto";

option go_package = "example.com/shop";

message Order {
  message Line {
    enum Kind { KIND_UNSPECIFIED = 0; KIND_ITEM = 1; }
    string sku = 1;
    Kind kind = 2;
  }
  reserved 4, 8 to 10, 100 to max;
  reserved "legacy", "old_total";
  string id = 1;
  map<string, Line> lines_by_sku = 2;
  map<int32, Line.Kind> kinds = 3;
  optional string note = 5;
  oneof payment {
    string card = 6;
    string voucher = 7;
  }
  repeated google.protobuf.Timestamp events = 11;
  int64 total_cents = 12 [json_name = "total", deprecated = true];
  optional int32 priority = 13;
  message Audit { repeated Line lines = 1; }
  Audit audit = 14;
}

enum Status {
  STATUS_UNSPECIFIED = 0;
  STATUS_OPEN = 1 [deprecated = true];
  reserved 5 to 9, 20 to max;
  reserved "STATUS_GONE";
}

service OrderService {
  option deprecated = true;
  rpc Get(Order) returns (Order) { option idempotency_level = NO_SIDE_EFFECTS; }
  rpc Upload(stream Order) returns (Order);
  rpc Watch(Order) returns (stream Order);
  rpc Chat(stream Order) returns (stream Order);
}
"""

LEGACY = r"""
syntax = "proto2";

package acme.legacy;

import "google/protobuf/descriptor.proto";

option (owner) = "team \"core\"\\ops";

message Rules {
  message Nested { optional int32 depth = 1; }
  optional string pattern = 1;
  repeated string tags = 2;
  optional double min = 3;
  optional Nested nested = 4;
}

enum Level { option allow_alias = true; LOW = 1; HIGH = 2 [(weight) = 0.5]; ALSO_HIGH = 2; }

extend google.protobuf.FileOptions { optional string owner = 50001; }
extend google.protobuf.MessageOptions { optional bool audited = 50001; }
extend google.protobuf.FieldOptions {
  optional Rules rules = 50001;
  repeated string labels = 50002;
}
extend google.protobuf.OneofOptions { optional bool exclusive = 50001; }
extend google.protobuf.EnumValueOptions { optional float weight = 50001; }
extend google.protobuf.ServiceOptions { optional Level level = 50001; }
extend google.protobuf.MethodOptions { repeated Rules method_rules = 50001; }

message Account {
  option (audited) = true;
  extensions 100 to 199, 1000 to max;
  required string id = 1 [
    (rules) = { pattern: "^[a-z]+\\d*'$" tags: ["a", "b\n"] min: -inf nested { depth: 3 } },
    (labels) = "x", (labels) = "y"
  ];
  optional string name = 2 [default = "it's \"quoted\"\t"];
  optional bytes salt = 3 [default = "\001\377abc"];
  optional Level level = 4 [default = HIGH];
  optional double ratio = 5 [default = inf];
  optional sint64 delta = 6 [default = -42];
  repeated int32 scores = 8 [packed = true];
  optional group Address = 9 { optional string street = 1; }
  oneof contact {
    option (exclusive) = true;
    string email = 10;
    string phone = 11;
  }
  extend Account { optional string nickname = 150; }
  message Meta { extend Account { optional int32 meta_version = 151; } }
}

extend Account { optional bool verified = 1000; }

service Accounts {
  option (level) = HIGH;
  rpc Lookup(Account) returns (Account) {
    option (method_rules) = { pattern: "x" };
    option (method_rules) = {};
  }
}
"""

EDITIONS = """\
edition = "2023";

package acme.ed;

option features.field_presence = IMPLICIT;

message Item {
  string name = 1;
  int32 count = 2 [features.field_presence = EXPLICIT];
  Item child = 3 [features.message_encoding = DELIMITED];
  repeated int32 ids = 4 [features.repeated_field_encoding = EXPANDED];
  reserved legacy;
  reserved 10;
}

enum Color { option features.enum_type = CLOSED; COLOR_UNSPECIFIED = 0; RED = 1; }
"""

DEP = 'syntax = "proto3";\npackage acme.dep;\nmessage Shared { string id = 1; }\n'

NAMES = """\
syntax = "proto3";

package acme.names;

import public "dep.proto";
import weak "weak.proto";
import "google/protobuf/descriptor.proto";

extend google.protobuf.FieldOptions { string tag = 50010; }

message B { string x = 1; }

message A {
  message B { int32 y = 1; }
  message acme { }
  message dep { }
  B inner = 1;
  .acme.names.B outer = 2;
  .acme.dep.Shared shared = 3 [(.acme.names.tag) = "t"];
}
"""


def round_trip(tmp_path: Path, sources: dict[str, str], target: str) -> tuple[str, str, str]:
    """Compile, print ``target`` back, compile the print: (before, after, printed text)."""
    first = build(tmp_path / "first", sources)
    original = file_named(first, target)
    printed = print_file(original, first.file)
    second = build(tmp_path / "second", {**sources, target: printed})
    again = file_named(second, target)
    return canonical(original, first.file), canonical(again, second.file), printed


def test_proto3_maps_oneofs_optional_nested_types_reserved_and_streaming_survive_a_round_trip(
    tmp_path: Path,
) -> None:
    before, after, printed = round_trip(tmp_path, {"shop.proto": SHOP}, "shop.proto")

    assert after == before
    assert "map<string, Line> lines_by_sku = 2;" in printed
    assert "optional string note = 5;" in printed
    assert "oneof _note" not in printed
    assert "rpc Chat(stream Order) returns (stream Order);" in printed


def test_proto2_custom_options_defaults_groups_and_extensions_survive_a_round_trip(
    tmp_path: Path,
) -> None:
    before, after, printed = round_trip(tmp_path, {"legacy.proto": LEGACY}, "legacy.proto")

    assert after == before
    assert "extensions 1000 to max;" in printed
    assert "optional group Address = 9 {" in printed
    assert "(acme.legacy.labels) = " in printed


def test_editions_features_and_reserved_identifiers_survive_a_round_trip(tmp_path: Path) -> None:
    before, after, printed = round_trip(tmp_path, {"ed.proto": EDITIONS}, "ed.proto")

    assert after == before
    assert printed.startswith('edition = "2023";')
    assert "reserved legacy;" in printed


def test_shadowed_names_are_qualified_so_they_resolve_to_the_same_types(tmp_path: Path) -> None:
    weak = 'syntax = "proto3";\npackage acme.weak;\nmessage W {}\n'
    sources = {"dep.proto": DEP, "weak.proto": weak, "names.proto": NAMES}

    before, after, printed = round_trip(tmp_path, sources, "names.proto")

    assert after == before
    assert 'import public "dep.proto";' in printed
    assert 'import weak "weak.proto";' in printed
    assert '.acme.dep.Shared shared = 3 [(.acme.names.tag) = "t"];' in printed


def test_every_google_proto_and_well_known_type_survives_a_round_trip(tmp_path: Path) -> None:
    thirdparty.materialise(tmp_path / "first")
    first = build_dir(tmp_path / "first")
    for fd in first.file:  # descriptor.proto and the other WKTs come with the image
        path = tmp_path / "second" / fd.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(print_file(fd, first.file))

    second = build_dir(tmp_path / "second")

    assert len(first.file) > 40
    differ = [
        fd.name
        for fd in first.file
        if canonical(fd, first.file) != canonical(file_named(second, fd.name), second.file)
    ]
    assert differ == []


def test_an_option_no_import_declares_is_an_error_not_silently_dropped() -> None:
    fd = FileDescriptorProto(name="x.proto", syntax="proto3")
    fd.options.MergeFromString(b"\xf8\xb5\x18\x01")  # field 50015, varint 1: no such extension

    with pytest.raises(ValueError, match="50015"):
        print_file(fd)


def test_an_import_that_cannot_be_found_is_reported() -> None:
    fd = FileDescriptorProto(name="x.proto", dependency=["nowhere/missing.proto"])

    with pytest.raises(LookupError, match=re.escape("nowhere/missing.proto")):
        print_file(fd)


def test_validate_descriptor_is_read_without_importing_protovalidate() -> None:
    code = (
        "import sys\n"
        "from contractkit.thirdparty import validate_descriptor\n"
        "fd = validate_descriptor()\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('protovalidate', 'protobuf')]\n"
        "print(fd.name, len(fd.message_type), loaded)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    name, count, loaded = out.stdout.split(" ", 2)
    assert name == "buf/validate/validate.proto"
    assert int(count) > 20
    assert loaded.strip() == "[]"


def test_validate_proto_is_proto2_with_open_extension_ranges() -> None:
    fd = thirdparty.validate_descriptor()

    assert fd.syntax in ("", "proto2")
    assert {x.name for x in fd.extension} == {"message", "oneof", "field", "predefined"}
    assert 'syntax = "proto2";' in thirdparty.print_validate_proto()
    assert "extensions 1000 to max;" in thirdparty.print_validate_proto()


def build_validate(tmp_path: Path, text: str) -> tuple[str, str]:
    """Compile ``text`` as validate.proto: (embedded descriptor, compiled one) as text."""
    root = tmp_path / "validate"
    fds = build(root, {thirdparty.VALIDATE_PROTO: text})
    compiled = file_named(fds, thirdparty.VALIDATE_PROTO)
    return canonical(thirdparty.validate_descriptor(), fds.file), canonical(compiled, fds.file)


def test_printed_validate_proto_compiles_with_buf_to_the_embedded_descriptor(
    tmp_path: Path,
) -> None:
    embedded, compiled = build_validate(tmp_path, thirdparty.print_validate_proto())

    assert compiled == embedded
    assert compiled.count("[buf.validate.predefined]") > 100


def test_the_validate_comparison_notices_a_dropped_custom_option(tmp_path: Path) -> None:
    text = thirdparty.print_validate_proto()
    one_option = text.index(" [(buf.validate.predefined) = {")
    end = text.index("}];", one_option) + len("}]")
    damaged = text[:one_option] + text[end:]

    embedded, compiled = build_validate(tmp_path, damaged)

    assert compiled != embedded


def test_materialise_writes_google_protos_verbatim_and_validate_proto(tmp_path: Path) -> None:
    written = thirdparty.materialise(tmp_path)

    names = {p.relative_to(tmp_path).as_posix() for p in written}
    for expected in (
        "google/api/annotations.proto", "google/api/http.proto",
        "google/api/field_behavior.proto", "google/api/resource.proto",
        "google/api/client.proto", "google/api/launch_stage.proto",
        "google/rpc/status.proto", "google/rpc/error_details.proto", "google/rpc/code.proto",
        "buf/validate/validate.proto",
    ):  # fmt: skip
        assert expected in names
    shipped = importlib.resources.files("google.api").joinpath("http.proto").read_bytes()
    assert (tmp_path / "google/api/http.proto").read_bytes() == shipped
    assert not (tmp_path / "google/protobuf").exists()


def test_materialised_folder_builds_with_buf(tmp_path: Path) -> None:
    thirdparty.materialise(tmp_path / "proto")

    fds = build_dir(tmp_path / "proto")

    built = {f.name for f in fds.file}
    assert {"google/api/annotations.proto", thirdparty.VALIDATE_PROTO} <= built


def inodes_and_mtimes(root: Path) -> dict[Path, tuple[int, int]]:
    """(inode, mtime) of `root` and of every file and folder under it: a file replaced gets
    a new inode, a folder in which a file was created, replaced or removed a new mtime."""
    return {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in [root, *root.rglob("*")]}


def test_a_second_materialise_writes_nothing_and_touches_no_folder(tmp_path: Path) -> None:
    thirdparty.materialise(tmp_path)
    before = inodes_and_mtimes(tmp_path)

    written = thirdparty.materialise(tmp_path)

    assert written == []
    assert inodes_and_mtimes(tmp_path) == before  # how long it takes: `make bench`


def test_materialise_repairs_an_edited_file_and_removes_stale_ones(tmp_path: Path) -> None:
    thirdparty.materialise(tmp_path)
    (tmp_path / "google/api/http.proto").write_text("// edited by hand\n")
    (tmp_path / "google/api/retired.proto").write_text("// no longer shipped\n")
    (tmp_path / "google/rpc/old/gone.proto").parent.mkdir()
    (tmp_path / "google/rpc/old/gone.proto").write_text("// no longer shipped\n")
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme/mine.proto").write_text("// not ours to remove\n")

    written = thirdparty.materialise(tmp_path)

    assert written == [tmp_path / "google/api/http.proto"]
    assert not (tmp_path / "google/api/retired.proto").exists()
    assert not (tmp_path / "google/rpc/old").exists()
    assert (tmp_path / "acme/mine.proto").exists()
