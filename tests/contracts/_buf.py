"""Test helpers: compile ``.proto`` sources with the real buf binary and compare results."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format
from google.protobuf.descriptor_pb2 import FileDescriptorProto, FileDescriptorSet

from contractkit.buf import build_image
from contractkit.descriptors import load_image

__all__ = ["buf_binary", "build", "build_contract", "build_dir", "canonical", "file_named"]


def buf_binary() -> str:
    """The buf CLI of this virtualenv (installed by the ``buf-bin`` dev dependency)."""
    beside = Path(sys.executable).parent / "buf"
    found = str(beside) if beside.is_file() else shutil.which("buf")
    if found is None:
        raise RuntimeError("buf is not installed: pip install buf-bin")
    return found


def build_dir(root: Path) -> FileDescriptorSet:
    """``buf build`` a folder (a v2 ``buf.yaml`` is written if missing), imports included."""
    if not (root / "buf.yaml").exists():
        (root / "buf.yaml").write_text("version: v2\n")
    out = root.parent / f"{root.name}.binpb"
    result = subprocess.run(
        [buf_binary(), "build", str(root), "--as-file-descriptor-set", "--exclude-source-info",
         "-o", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise AssertionError(f"buf build failed:\n{result.stderr}")
    return FileDescriptorSet.FromString(out.read_bytes())


def build(root: Path, sources: Mapping[str, str]) -> FileDescriptorSet:
    """Write ``{path: source}`` under ``root`` and build it."""
    for name, text in sources.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return build_dir(root)


REPO = Path(__file__).resolve().parents[2]
# What a small contract of a test may import: our options, buf.validate, google.api.
_IMPORTABLE = {
    "acme/options/v1": REPO / "api/proto/acme/options/v1",
    "buf/validate": REPO / ".thirdparty/proto/buf/validate",
    "google/api": REPO / ".thirdparty/proto/google/api",
}


def build_contract(folder: Path, sources: Mapping[str, str]) -> list[FileDescriptorProto]:
    """``{path: source}`` compiled by buf in `folder`, next to copies of the protos they may
    import, as contractkit reads a workspace (an image with source info, imports included)."""
    folder.mkdir(parents=True)
    (folder / "buf.yaml").write_text("version: v2\n")
    for name, origin in _IMPORTABLE.items():
        if not origin.is_dir():
            raise AssertionError(f"{origin} is missing: run `make thirdparty`")
        shutil.copytree(origin, folder / name)
    for name, text in sources.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return load_image(build_image(folder))


def file_named(fds: FileDescriptorSet, name: str) -> FileDescriptorProto:
    return next(f for f in fds.file if f.name == name)


def canonical(fd: FileDescriptorProto, files: Iterable[FileDescriptorProto]) -> str:
    """``fd`` as text, its options parsed with every extension of ``files`` known.

    Custom options are unknown fields to the stock ``descriptor_pb2`` classes; re-parsing
    through a pool that holds their declarations makes two descriptors compare by meaning
    (and print readably in a failing assertion) instead of by byte order.
    """
    files = list(files)
    if not any(f.name == descriptor_pb2.DESCRIPTOR.name for f in files):
        own = FileDescriptorProto()
        descriptor_pb2.DESCRIPTOR.CopyToProto(own)
        files.insert(0, own)
    pool = descriptor_pool.DescriptorPool()
    names = []
    for proto in files:
        pool.Add(proto)
        names.append(proto.name)
    classes = message_factory.GetMessageClassesForFiles(names, pool)
    parsed = classes["google.protobuf.FileDescriptorProto"].FromString(fd.SerializeToString())
    return text_format.MessageToString(parsed, print_unknown_fields=True)
