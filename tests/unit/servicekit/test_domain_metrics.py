"""servicekit.metrics.DomainCounter: domain events as acme_*_total series, every label value
exported from the start, none that was not declared."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from servicekit.metrics import DomainCounter


def test_a_plain_counter_is_acme_name_total_from_zero() -> None:
    registry = CollectorRegistry()
    counter = DomainCounter(registry, "widgets_made", "Widgets made.")

    assert registry.get_sample_value("acme_widgets_made_total") == 0.0
    counter.inc()
    counter.inc()
    assert registry.get_sample_value("acme_widgets_made_total") == 2.0


def test_every_declared_label_value_is_exported_at_zero_before_its_first_event() -> None:
    registry = CollectorRegistry()
    counter = DomainCounter(
        registry, "logins", "Sign-ins.", label="outcome", values=("succeeded", "failed")
    )

    counter.inc("failed")

    text = generate_latest(registry).decode()
    assert 'acme_logins_total{outcome="succeeded"} 0.0' in text
    assert 'acme_logins_total{outcome="failed"} 1.0' in text


def test_a_value_that_was_not_declared_is_refused_and_makes_no_series() -> None:
    registry = CollectorRegistry()
    counter = DomainCounter(registry, "logins", "Sign-ins.", label="outcome", values=("ok",))

    with pytest.raises(ValueError, match="'whatever' is not one of"):
        counter.inc("whatever")

    assert "whatever" not in generate_latest(registry).decode()


def test_a_label_without_values_or_values_without_a_label_is_a_mistake() -> None:
    with pytest.raises(ValueError, match="a label needs its values"):
        DomainCounter(CollectorRegistry(), "x", "X.", label="outcome")
    with pytest.raises(ValueError, match="a label needs its values"):
        DomainCounter(CollectorRegistry(), "y", "Y.", values=("a",))
