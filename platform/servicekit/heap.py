"""A serving process's heap: what start-up built is kept out of the cyclic collector's way.

Start-up imports the libraries, reads the contracts and builds the server: some hundreds
of thousands of objects that live as long as the process. Python's cyclic garbage
collector, left at its defaults, runs its youngest generation every 700 net allocations
of container objects (under load, every request or two), promotes whatever is alive then
(the objects of every request still in flight) and, as those pile up, walks the whole
heap again, start-up's objects included. A serving process pays that on every request
and in its tail latency.

``settle()`` runs once, when start-up is done and before the first request:

- one full collection, then ``gc.freeze()``: what is left of start-up moves to the
  permanent generation, which no collection walks again;
- the youngest generation's threshold raised to ``YOUNGEST_THRESHOLD`` (20 000), so that a
  request's objects are mostly freed by reference counting before a collection meets
  them.

Reference counting frees almost everything a request allocates whatever the thresholds;
cycles are still collected, only less often (at most ~20 000 container objects wait for
a collection). The older generations keep Python's thresholds. Both of servicekit's
``serve`` (every gRPC service's worker) and the gateway's call it. What it saves is in
``bench/README.md``, "The collector after start-up".
"""

from __future__ import annotations

import gc

__all__ = ["YOUNGEST_THRESHOLD", "settle"]

YOUNGEST_THRESHOLD = 20_000
"""Net allocations of container objects between two collections of the youngest
generation (Python's default is 700): above what a few hundred requests in flight keep
alive, so they die young."""


def settle(youngest_threshold: int = YOUNGEST_THRESHOLD) -> None:
    """Collect, freeze what is left, and raise the youngest generation's threshold."""
    if youngest_threshold < 1:
        raise ValueError(f"youngest_threshold must be >= 1, got {youngest_threshold}")
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(youngest_threshold, middle, oldest)
