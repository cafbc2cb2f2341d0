"""A running server's Prometheus endpoint, read the way Prometheus reads it."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families

__all__ = ["YOUNGEST_COLLECTIONS", "Samples", "scrape"]

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
"""Every sample: (name, sorted labels) -> value."""

YOUNGEST_COLLECTIONS = ("python_gc_collections_total", (("generation", "0"),))
"""The sample counting collections of the garbage collector's youngest generation."""


def scrape(url: str) -> Samples:
    """The samples ``url`` (a local ``/metrics``) serves now."""
    with urllib.request.urlopen(url, timeout=10) as reply:  # noqa: S310 - a local URL
        text = reply.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
