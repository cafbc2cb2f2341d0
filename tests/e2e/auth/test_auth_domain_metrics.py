"""The domain series on the running services' /metrics: a sign-up, sign-ins by outcome, a
reused refresh token and a logout move them, beside the process and gRPC series."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from acme.auth.v1 import auth_service_pb2 as auth_pb
from servicekit.testing.ports import free_port
from tests.e2e._metrics import scrape
from tests.e2e.auth._stack import Stack, running_stack


@pytest.fixture(scope="module")
def metered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str, str]]:
    """The stack on SQLite with both metrics endpoints on ports the test knows."""
    auth_port, user_port = free_port(), free_port()
    folder: Path = tmp_path_factory.mktemp("metered")
    with running_stack("sqlite", folder, auth={"AUTH_METRICS__PORT": str(auth_port)}) as stack:
        stack.stop_user()
        stack.start_user(USER_METRICS__PORT=str(user_port))
        yield (
            stack,
            f"http://127.0.0.1:{auth_port}/metrics",
            f"http://127.0.0.1:{user_port}/metrics",
        )


def test_the_events_of_a_session_move_the_domain_series(
    metered: tuple[Stack, str, str],
) -> None:
    stack, auth_metrics, user_metrics = metered
    _, email = stack.register()
    tokens = stack.login(email)
    with pytest.raises(grpc.RpcError):
        stack.login(email, "not the password")
    renewed = stack.auth.RefreshToken(
        auth_pb.RefreshTokenRequest(refresh_token=tokens.refresh_token)
    )
    with pytest.raises(grpc.RpcError) as reused:
        stack.auth.RefreshToken(auth_pb.RefreshTokenRequest(refresh_token=tokens.refresh_token))
    second = stack.login(email)
    stack.auth.Logout(auth_pb.LogoutRequest(refresh_token=second.refresh_token))

    auth, user = scrape(auth_metrics), scrape(user_metrics)
    assert renewed.tokens.refresh_token
    assert reused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert user[("acme_users_registered_total", ())] == 1.0
    assert auth[("acme_logins_total", (("outcome", "succeeded"),))] == 2.0
    assert auth[("acme_logins_total", (("outcome", "failed"),))] == 1.0
    assert auth[("acme_logins_total", (("outcome", "locked"),))] == 0.0
    assert auth[("acme_refresh_token_reuse_detected_total", ())] == 1.0
    assert auth[("acme_sessions_revoked_total", (("reason", "refresh_token_reused"),))] == 1.0
    assert auth[("acme_sessions_revoked_total", (("reason", "logout"),))] == 1.0
    # Beside the series that were there before.
    assert any(name == "grpc_server_handled_total" for name, _ in auth)
    assert any(name == "process_cpu_seconds_total" for name, _ in user)
