"""The User Service's settings: the page-token key and the bound on password hashing."""

from __future__ import annotations

import pytest

from servicekit.config import ConfigError
from services.user.settings import load

DATABASE = {"USER_DATABASE__URL": "sqlite:///unused.db"}


def test_the_development_page_token_secret_is_refused_outside_development() -> None:
    with pytest.raises(ConfigError) as refused:
        load(env={**DATABASE, "USER_ENVIRONMENT": "production"})

    assert "pagination.page_token_secret" in str(refused.value)
    assert "dev-page-token-secret" not in str(refused.value)


def test_a_page_token_secret_of_its_own_is_accepted_everywhere() -> None:
    settings = load(
        env={
            **DATABASE,
            "USER_ENVIRONMENT": "production",
            "USER_PAGINATION__PAGE_TOKEN_SECRET": "a secret from the secret store",
        }
    )

    assert settings.pagination.page_token_secret.reveal() == "a secret from the secret store"
    assert "a secret from the secret store" not in repr(settings)


def test_password_hashing_is_bounded_by_default() -> None:
    passwords = load(env=DATABASE).passwords

    assert (passwords.max_concurrent, passwords.max_waiting) == (2, 4)
    assert 0 < passwords.max_wait_seconds <= 1.0
    assert passwords.retry_after_seconds > 0
