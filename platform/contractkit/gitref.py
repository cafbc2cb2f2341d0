"""The base revision of the breaking checks, in full and shallow clones alike."""

from __future__ import annotations

import io
import subprocess  # runs git with arguments built here, no shell  # nosec B404
import tarfile
from pathlib import Path

__all__ = ["GitError", "export_tree", "resolve_base"]


class GitError(Exception):
    """The base revision cannot be found or read."""


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, check=False)  # nosec B603 B607


def _commit_of(root: Path, ref: str) -> str | None:
    result = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    return result.stdout.decode().strip() if result.returncode == 0 else None


def resolve_base(root: Path, branch: str) -> str:
    """The commit of `branch`: the local branch, else the remote-tracking one, else
    fetched from `origin` (a shallow CI clone has only the branch it was cloned at)."""
    for ref in (f"refs/heads/{branch}", f"refs/remotes/origin/{branch}", branch):
        commit = _commit_of(root, ref)
        if commit:
            return commit
    fetched = _git(
        root,
        "fetch",
        "--quiet",
        "--depth=1",
        "origin",
        f"+refs/heads/{branch}:refs/remotes/origin/{branch}",
    )
    commit = _commit_of(root, f"refs/remotes/origin/{branch}")
    if fetched.returncode != 0 or commit is None:
        detail = fetched.stderr.decode(errors="replace").strip()
        raise GitError(f"cannot find or fetch the base branch {branch!r}: {detail}")
    return commit


def export_tree(root: Path, commit: str, paths: list[str], dest: Path) -> list[str]:
    """Writes the files under `paths` as they are at `commit` into `dest`; returns the
    paths that exist at that commit (a base that predates a path lacks it)."""
    present = [p for p in paths if _git(root, "cat-file", "-e", f"{commit}:{p}").returncode == 0]
    if not present:
        return []
    archive = _git(root, "archive", "--format=tar", commit, "--", *present)
    if archive.returncode != 0:
        raise GitError(archive.stderr.decode(errors="replace").strip())
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(dest, filter="data")
    return present
