"""What a failed load reports: every problem at once, each naming its key."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["ConfigError", "ConfigProblem"]


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One broken rule for one key, e.g. ``grpc.port: expected an integer, got 'abc'``.

    ``key`` is the dotted, lower-case path of the setting (``grpc.port``), or the file or
    environment variable at fault when the problem is not about one setting.
    """

    key: str
    rule: str

    def __str__(self) -> str:
        return f"{self.key}: {self.rule}"


class ConfigError(Exception):
    """The configuration cannot be loaded; ``problems`` lists every reason found."""

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"invalid configuration, {count} {noun}:\n{lines}")
