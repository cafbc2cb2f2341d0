"""TLS and mutual TLS: development certificates, TLS servers, clients and service identity."""

from __future__ import annotations

import ipaddress
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509

from acme.user.v1 import user_service_pb2, user_service_pb2_grpc
from servicekit.auth import AccessPolicies, JwksSource, Principal, TokenVerifier
from servicekit.clients import ClientSettings, ManagedChannel, StaticToken, open_channel
from servicekit.config import Secret
from servicekit.devcerts import issue_dev_certificates, main
from servicekit.grpc import ErrorMappingInterceptor, GrpcServer, GrpcSettings
from servicekit.grpc.interceptors.auth import AccessPolicyInterceptor, AuthenticationInterceptor
from servicekit.testing.tokens import TestIssuer
from servicekit.tls import (
    TlsClientSettings,
    TlsFileError,
    TlsServerSettings,
    channel_credentials,
    server_credentials,
)
from tests.unit.servicekit._scripted_user_service import SERVICE_NAME, ScriptedUserService, serving

USER_SERVICE = user_service_pb2.DESCRIPTOR.services_by_name["UserService"]
ADA = "6f1c0a4e-1d2b-4c3d-9e8f-0a1b2c3d4e5f"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tls")
    issue_dev_certificates(out, ["user", "auth", "gateway"])
    return out


def server_tls(certs: Path, *, mutual: bool) -> TlsServerSettings:
    return TlsServerSettings(
        enabled=True,
        cert_file=str(certs / "user.pem"),
        key_file=str(certs / "user-key.pem"),
        client_ca_file=str(certs / "ca.pem") if mutual else "",
        require_client_cert=mutual,
    )


def client_tls(certs: Path, identity: str | None = None, **extra: Any) -> TlsClientSettings:
    return TlsClientSettings(
        enabled=True,
        ca_file=str(certs / "ca.pem"),
        cert_file=str(certs / f"{identity}.pem") if identity else "",
        key_file=str(certs / f"{identity}-key.pem") if identity else "",
        **extra,
    )


@contextmanager
def tls_server(
    servicer: ScriptedUserService, tls: TlsServerSettings, interceptors: Any = ()
) -> Iterator[GrpcServer]:
    settings = GrpcSettings(port=0, max_workers=4, tls=tls)
    with serving(servicer, settings=settings, interceptors=interceptors) as server:
        yield server


@contextmanager
def client(target: str, tls: TlsClientSettings, **kwargs: Any) -> Iterator[ManagedChannel]:
    settings = ClientSettings(target=target, tls=tls, max_attempts=1)
    managed = open_channel(settings, service_name=SERVICE_NAME, **kwargs)
    try:
        yield managed
    finally:
        managed.close()


def get_user(managed: ManagedChannel) -> Any:
    stub = user_service_pb2_grpc.UserServiceStub(managed.channel)
    return stub.GetUser(user_service_pb2.GetUserRequest(id=ADA), timeout=5)


def verify_credentials(managed: ManagedChannel) -> Any:
    stub = user_service_pb2_grpc.UserServiceStub(managed.channel)
    request = user_service_pb2.VerifyCredentialsRequest(email="ada@example.com", password="pw")
    return stub.VerifyCredentials(request, timeout=5)


def code_of(call: Any) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    code: grpc.StatusCode = caught.value.code()
    return code


# --- development certificates -------------------------------------------------------


def test_devcerts_makes_a_ca_and_a_certificate_per_service_naming_its_identity(
    tmp_path: Path,
) -> None:
    assert main(["--out", str(tmp_path), "user", "auth"]) == 0

    cert = x509.load_pem_x509_certificate((tmp_path / "auth.pem").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["auth", "localhost"]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert names.get_values_for_type(x509.UniformResourceIdentifier) == [
        "spiffe://acme.dev/service/auth"
    ]
    ca = x509.load_pem_x509_certificate((tmp_path / "ca.pem").read_bytes())
    cert.verify_directly_issued_by(ca)
    for key in ("ca-key.pem", "user-key.pem", "auth-key.pem"):
        assert stat.S_IMODE((tmp_path / key).stat().st_mode) == 0o600


def test_devcerts_keeps_the_ca_and_current_certificates_and_adds_new_services(
    tmp_path: Path,
) -> None:
    issue_dev_certificates(tmp_path, ["user"])
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}

    written = issue_dev_certificates(tmp_path, ["user", "gateway"])

    assert sorted(path.name for path in written) == ["gateway-key.pem", "gateway.pem"]
    for name, content in before.items():
        assert (tmp_path / name).read_bytes() == content


def test_devcerts_reissues_a_certificate_another_ca_signed(tmp_path: Path) -> None:
    other = tmp_path / "other"
    issue_dev_certificates(other, ["user"])
    issue_dev_certificates(tmp_path, ["auth"])
    for name in ("user.pem", "user-key.pem"):
        (tmp_path / name).write_bytes((other / name).read_bytes())

    written = issue_dev_certificates(tmp_path, ["user"])

    assert sorted(path.name for path in written) == ["user-key.pem", "user.pem"]
    ca = x509.load_pem_x509_certificate((tmp_path / "ca.pem").read_bytes())
    x509.load_pem_x509_certificate((tmp_path / "user.pem").read_bytes()).verify_directly_issued_by(
        ca
    )


def test_devcerts_refuses_a_name_that_is_not_a_dns_label_or_half_a_ca(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--out", str(tmp_path), "User_Service"]) == 1
    issue_dev_certificates(tmp_path, ["user"])
    (tmp_path / "ca-key.pem").unlink()
    assert main(["--out", str(tmp_path), "user"]) == 1

    errors = capsys.readouterr().err
    assert "lowercase DNS labels" in errors
    assert "ca-key.pem is missing" in errors


# --- TLS ---------------------------------------------------------------------------------


def test_a_client_that_trusts_the_ca_calls_a_tls_server(certs: Path) -> None:
    with (
        tls_server(ScriptedUserService(), server_tls(certs, mutual=False)) as server,
        client(f"127.0.0.1:{server.port}", client_tls(certs)) as by_address,
        client(f"localhost:{server.port}", client_tls(certs)) as by_name,
        client(
            f"127.0.0.1:{server.port}", client_tls(certs, server_name_override="user")
        ) as overridden,
    ):
        for managed in (by_address, by_name, overridden):
            assert get_user(managed).user.id == ADA


def test_a_plaintext_client_cannot_talk_to_a_tls_server(certs: Path) -> None:
    servicer = ScriptedUserService()
    with (
        tls_server(servicer, server_tls(certs, mutual=False)) as server,
        client(f"127.0.0.1:{server.port}", TlsClientSettings()) as plaintext,
    ):
        assert code_of(lambda: get_user(plaintext)) is grpc.StatusCode.UNAVAILABLE
    assert servicer.call_count == 0


def test_a_server_certificate_for_another_name_is_refused(certs: Path) -> None:
    with (
        tls_server(ScriptedUserService(), server_tls(certs, mutual=False)) as server,
        client(
            f"127.0.0.1:{server.port}", client_tls(certs, server_name_override="billing")
        ) as misdirected,
    ):
        assert code_of(lambda: get_user(misdirected)) is grpc.StatusCode.UNAVAILABLE


# --- mutual TLS and service identity ----------------------------------------------------


@pytest.fixture
def guarded(tmp_path: Path) -> tuple[list[Any], TestIssuer]:
    """The authentication and access policy interceptors the user service runs."""
    issuer = TestIssuer(tmp_path)
    verifier = TokenVerifier(
        JwksSource.from_file(issuer.jwks_file), issuer=issuer.issuer, audience=issuer.audience
    )
    interceptors = [
        ErrorMappingInterceptor(),
        AuthenticationInterceptor(verifier),
        AccessPolicyInterceptor(AccessPolicies.from_services(USER_SERVICE)),
    ]
    return interceptors, issuer


def test_with_mtls_required_a_client_without_a_certificate_is_refused(
    certs: Path, guarded: tuple[list[Any], TestIssuer]
) -> None:
    servicer = ScriptedUserService()
    interceptors, _ = guarded
    with (
        tls_server(servicer, server_tls(certs, mutual=True), interceptors) as server,
        client(f"127.0.0.1:{server.port}", client_tls(certs)) as anonymous,
    ):
        assert code_of(lambda: verify_credentials(anonymous)) is grpc.StatusCode.UNAVAILABLE
    assert servicer.call_count == 0


def test_with_mtls_the_policy_sees_the_caller_named_by_its_certificate(
    certs: Path, guarded: tuple[list[Any], TestIssuer]
) -> None:
    servicer = ScriptedUserService()
    interceptors, _ = guarded
    with (
        tls_server(servicer, server_tls(certs, mutual=True), interceptors) as server,
        client(f"127.0.0.1:{server.port}", client_tls(certs, "auth")) as auth,
        client(f"127.0.0.1:{server.port}", client_tls(certs, "gateway")) as gateway,
    ):
        assert verify_credentials(auth).user.id == "u-1"
        assert code_of(lambda: verify_credentials(gateway)) is grpc.StatusCode.PERMISSION_DENIED

    assert [seen.principal for seen in servicer.calls] == [
        Principal(subject="auth", service="auth")
    ]


def test_with_mtls_a_bearer_token_still_names_the_caller(
    certs: Path, guarded: tuple[list[Any], TestIssuer]
) -> None:
    servicer = ScriptedUserService()
    interceptors, issuer = guarded
    token = StaticToken(Secret(issuer.mint(ADA)))
    with (
        tls_server(servicer, server_tls(certs, mutual=True), interceptors) as server,
        client(f"127.0.0.1:{server.port}", client_tls(certs, "auth"), credentials=token) as ada,
    ):
        assert get_user(ada).user.id == ADA

    [seen] = servicer.calls
    assert seen.principal is not None
    assert seen.principal.subject == ADA
    assert not seen.principal.is_service


# --- settings and files -----------------------------------------------------------------


def test_tls_off_builds_no_credentials() -> None:
    assert server_credentials(TlsServerSettings()) is None
    assert channel_credentials(TlsClientSettings()) is None


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        (lambda: TlsServerSettings(enabled=True), "needs cert_file and key_file"),
        (
            lambda: TlsServerSettings(
                enabled=True, cert_file="c", key_file="k", require_client_cert=True
            ),
            "require_client_cert needs client_ca_file",
        ),
        (
            lambda: TlsServerSettings(
                enabled=True, cert_file="c", key_file="k", client_ca_file="a"
            ),
            "client_ca_file is used only with require_client_cert",
        ),
        (
            lambda: TlsClientSettings(enabled=True, cert_file="c"),
            "needs both cert_file and key_file",
        ),
    ],
)
def test_tls_settings_that_cannot_work_are_refused(settings: Any, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        settings()


def test_a_missing_or_wrong_file_is_named_with_its_setting(certs: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")

    with pytest.raises(TlsFileError, match=f"cert_file: cannot read {missing}"):
        server_credentials(
            TlsServerSettings(enabled=True, cert_file=str(missing), key_file=str(missing))
        )
    with pytest.raises(TlsFileError, match=f"ca_file: {garbage} holds no PEM certificate"):
        channel_credentials(TlsClientSettings(enabled=True, ca_file=str(garbage)))
    with pytest.raises(TlsFileError, match="is not the key of the certificate"):
        server_credentials(
            TlsServerSettings(
                enabled=True,
                cert_file=str(certs / "user.pem"),
                key_file=str(certs / "auth-key.pem"),
            )
        )


def test_a_server_with_unreadable_tls_files_is_not_built(tmp_path: Path) -> None:
    missing = str(tmp_path / "user-key.pem")
    tls = TlsServerSettings(enabled=True, cert_file=missing, key_file=missing)

    with (
        pytest.raises(TlsFileError, match="cannot read"),
        serving(ScriptedUserService(), settings=GrpcSettings(port=0, tls=tls)),
    ):
        pass  # pragma: no cover - the server must not start
