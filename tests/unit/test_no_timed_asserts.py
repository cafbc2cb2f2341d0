"""No test bounds a measured duration under 5 s: on a shared, loaded machine it is a coin toss.

A test asserts the behaviour behind a speed instead (nothing rewritten, the expensive step
run once, no connection attempted), and `make bench` prints the figure against its target.
A fail-fast test may bound a duration when the wait it must not make is set large (30 s)
and the bound is at least 5 s: a margin of an order of magnitude, not a fraction.

The check reads every test module with `ast`. A duration is a subtraction involving a clock
(`time.monotonic()`, `time.perf_counter()`, `time.time()`, their `_ns` forms, or a name bound
to one), or a name bound to an expression holding one (`elapsed = time.monotonic() -
started`). An `assert` that compares one with a number under 5 as its upper bound (`<`,
`<=`, or the same reversed) is named by file and line. Lower bounds are left alone: a loaded
machine only makes them truer.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
MIN_BOUND_SECONDS = 5
CLOCKS = {"monotonic", "perf_counter", "time", "monotonic_ns", "perf_counter_ns", "time_ns"}
_UPPER = (ast.Lt, ast.LtE)
_LOWER = (ast.Gt, ast.GtE)


def _is_clock_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call) or node.args:
        return False
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr in CLOCKS and isinstance(func.value, ast.Name) and func.value.id == "time"
    return isinstance(func, ast.Name) and func.id in CLOCKS


def _assignments(tree: ast.AST) -> list[tuple[str, ast.expr]]:
    """(name, value) of every `name = value` and `name: T = value` of the module."""
    found: list[tuple[str, ast.expr]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            found += [(t.id, node.value) for t in node.targets if isinstance(t, ast.Name)]
        elif (
            isinstance(node, ast.AnnAssign | ast.NamedExpr)
            and isinstance(node.target, ast.Name)
            and node.value is not None
        ):
            found.append((node.target.id, node.value))
    return found


class _Durations:
    """Which expressions of one module are measured durations."""

    def __init__(self, tree: ast.AST) -> None:
        assignments = _assignments(tree)
        self.clock_names = {name for name, value in assignments if _is_clock_call(value)}
        self.names: set[str] = set()
        grown = True
        while grown:  # `elapsed = now - started`, then `took = round(elapsed, 2)`, ...
            before = len(self.names)
            self.names |= {name for name, value in assignments if self.measures(value)}
            grown = len(self.names) > before

    def measures(self, node: ast.AST) -> bool:
        for part in ast.walk(node):
            if isinstance(part, ast.Name) and part.id in self.names:
                return True
            if (
                isinstance(part, ast.BinOp)
                and isinstance(part.op, ast.Sub)
                and (self._is_clock(part.left) or self._is_clock(part.right))
            ):
                return True
        return False

    def _is_clock(self, node: ast.AST) -> bool:
        return _is_clock_call(node) or (isinstance(node, ast.Name) and node.id in self.clock_names)


def _small_number(node: ast.AST) -> bool:
    if not isinstance(node, ast.Constant) or isinstance(node.value, bool):
        return False
    return isinstance(node.value, int | float) and node.value < MIN_BOUND_SECONDS


def _bounds_a_duration(compare: ast.Compare, durations: _Durations) -> bool:
    operands = [compare.left, *compare.comparators]
    for left, op, right in zip(operands, compare.ops, operands[1:], strict=False):
        if isinstance(op, _UPPER) and durations.measures(left) and _small_number(right):
            return True
        if isinstance(op, _LOWER) and _small_number(left) and durations.measures(right):
            return True
    return False


def timed_asserts(source: str, filename: str = "<test>") -> list[str]:
    """`file:line: source` of each assert of `source` bounding a duration under 5 s."""
    tree = ast.parse(source, filename)
    durations = _Durations(tree)
    lines = source.splitlines()
    found = sorted(
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Assert)
        and any(
            _bounds_a_duration(compare, durations)
            for compare in ast.walk(node.test)
            if isinstance(compare, ast.Compare)
        )
    )
    return [f"{filename}:{line}: {lines[line - 1].strip()}" for line in found]


def test_no_test_bounds_a_measured_duration_under_five_seconds() -> None:
    found = [
        line
        for path in sorted(TESTS.rglob("*.py"))
        for line in timed_asserts(path.read_text("utf-8"), str(path.relative_to(TESTS.parent)))
    ]

    assert found == [], (
        f"durations bounded under {MIN_BOUND_SECONDS} s (assert the behaviour behind the "
        "speed, or set the avoided wait to 30 s and bound at 10; figures go to bench/):\n"
        + "\n".join(found)
    )


def test_the_check_names_a_tight_bound_and_leaves_a_wide_one_alone() -> None:
    source = (
        "import time\n"
        "started = time.monotonic()\n"
        "assert time.monotonic() - started < 0.5\n"
        "assert time.monotonic() - started < 30\n"
    )

    assert timed_asserts(source, "t.py") == [
        "t.py:3: assert time.monotonic() - started < 0.5",
    ]


def test_the_check_follows_a_duration_through_the_names_it_is_bound_to() -> None:
    source = (
        "from time import perf_counter\n"
        "started = perf_counter()\n"
        "elapsed = perf_counter() - started\n"
        "took = round(elapsed, 2)\n"
        "now = perf_counter()\n"
        "assert elapsed <= 2\n"
        "assert 0.1 > now - started\n"
        "assert took < 3 and elapsed > 0.01\n"
        "assert elapsed >= 0.2\n"
        "assert elapsed < 10\n"
        "assert started < 1\n"
        "assert len(names) < 3\n"
    )

    assert [line.split(":")[1] for line in timed_asserts(source)] == ["6", "7", "8"]
