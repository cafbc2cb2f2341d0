"""Fixtures for checks that run on a throw-away copy of the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from google.protobuf.descriptor_pb2 import DescriptorProto, FileDescriptorProto

from contractkit.buf import build_image
from contractkit.descriptors import load_image

REPO = Path(__file__).resolve().parents[2]
# What a contract change touches: the contracts, their configuration, what they generate.
COPIED = ("buf.yaml", "buf.gen.yaml", "api", "gen")
# User.etag's declaration in api/proto/acme/user/v1/user.proto: where tests add or drop a field.
ETAG_FIELD = (
    "  string etag = 7 [\n"
    "    (buf.validate.field).string.max_len = 64,\n"
    '    (buf.validate.field).string.example = ""\n'
    "  ];\n"
)
# What is built or installed inside gen/ (bytecode, gen/ts's packages, gen/java's classes):
# never part of a contract change, and large.
NOT_COPIED = shutil.ignore_patterns("__pycache__", "node_modules", "target")


@dataclass
class Sandbox:
    """A git repository holding a copy of the contracts, committed as `main`, with a
    feature branch checked out: the situation of an API designer editing a contract."""

    root: Path

    def run(self, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        }
        return subprocess.run(
            args, cwd=self.root, capture_output=True, text=True, check=check, env=env
        )

    def contractkit(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(sys.executable, "-m", "contractkit.cli", "--root", str(self.root), *args)

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.root / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def generate(self) -> None:
        """What `make generate` runs."""
        self.contractkit("generate").check_returncode()

    def commit(self, message: str) -> None:
        self.run("git", "add", "-A", check=True)
        self.run("git", "commit", "-q", "-m", message, check=True)

    def free_field_number(self, message: str) -> int:
        """A number for a new field of `message` (full name), read from the descriptor the
        sandbox's contracts build to: above every field, reserved range and extension range
        it has, so that the test's field never collides with a real one, nor reuses the
        number of a deleted field."""
        files = load_image(build_image(self.root))
        found = _find_message(files, message)
        taken = [field.number for field in found.field]
        taken += [r.end - 1 for r in found.reserved_range]  # `end` is exclusive
        taken += [r.end - 1 for r in found.extension_range]
        return max(taken, default=0) + 1


def _find_message(files: list[FileDescriptorProto], full_name: str) -> DescriptorProto:
    def walk(prefix: str, messages: Iterable[DescriptorProto]) -> Iterator[DescriptorProto]:
        for message in messages:
            name = f"{prefix}.{message.name}"
            if name == full_name:
                yield message
            yield from walk(name, message.nested_type)

    for file in files:
        for message in walk(file.package, file.message_type):
            return message
    raise KeyError(f"no message {full_name} in the sandbox's contracts")


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    root = tmp_path / "repo"
    root.mkdir()
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=NOT_COPIED)
        else:
            shutil.copy2(source, root / name)
    # The sandbox's main holds every break the repository's own branch acknowledges: they
    # are not findings against it, so its list starts empty, as between two breaks.
    acknowledged = root / "api" / "breaking-acknowledged.yaml"
    if acknowledged.is_file():
        header = acknowledged.read_text(encoding="utf-8").split("\nacknowledged:", 1)[0]
        acknowledged.write_text(f"{header}\nacknowledged: []\n", encoding="utf-8")
    box = Sandbox(root)
    box.run("git", "init", "-q", "-b", "main", check=True)
    box.run("git", "config", "user.email", "designer@example.com", check=True)
    box.run("git", "config", "user.name", "API Designer", check=True)
    (root / ".gitignore").write_text("/.thirdparty/\n")
    box.contractkit("thirdparty").check_returncode()
    box.commit("contracts")
    box.run("git", "checkout", "-q", "-b", "feature", check=True)
    return box
