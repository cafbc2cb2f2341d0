"""heap.settle: start-up's objects out of every collection, cycles still collected."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from servicekit import heap


class Node:
    """A container object that can be part of a reference cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def settled_process() -> Iterator[None]:
    """Undo ``settle`` afterwards: this test process goes on with Python's defaults."""
    thresholds = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def cycle() -> weakref.ref[Node]:
    """Two nodes holding each other, unreachable from anywhere else."""
    first, second = Node(), Node()
    first.other, second.other = second, first
    return weakref.ref(first)


@pytest.mark.usefixtures("settled_process")
def test_objects_built_before_settling_are_frozen_and_no_collection_walks_them() -> None:
    built_at_start_up = Node()

    heap.settle()

    assert gc.get_freeze_count() > 0
    assert not any(found is built_at_start_up for found in gc.get_objects())


@pytest.mark.usefixtures("settled_process")
def test_garbage_of_start_up_is_collected_before_the_freeze() -> None:
    start_up_garbage = cycle()

    heap.settle()

    assert start_up_garbage() is None


@pytest.mark.usefixtures("settled_process")
def test_cycles_made_while_serving_are_still_collected() -> None:
    heap.settle()

    served = cycle()
    gc.collect()

    assert served() is None


@pytest.mark.usefixtures("settled_process")
def test_the_youngest_generation_waits_longer_and_the_older_keep_their_thresholds() -> None:
    _, middle, oldest = gc.get_threshold()

    heap.settle()

    assert gc.get_threshold() == (heap.YOUNGEST_THRESHOLD, middle, oldest)


def test_a_threshold_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="youngest_threshold must be >= 1, got 0"):
        heap.settle(0)
