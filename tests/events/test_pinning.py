"""An attempt connects to the address that was checked, never to a second lookup of the
name: the request keeps the name in its Host header and, over TLS, in the name sent
and the certificate checked.

The names here end in `.test`, which no DNS answers: an attempt that looked the name up
again itself would fail, so reaching the receiver at all shows the connection went to
the address the check was given.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.events.models import EventType, Target
from app.events.payloads import Reason
from app.events.sender import Call, Pinned, Transport, send
from tests.events.fhir_server import FhirServer
from tests.events.receiver import Receiver
from tests.events.test_addresses import Resolver

NAME = "hooks.wesaid.test"


def _call(url: str, target: Target = Target.WEBHOOK) -> Call:
    return Call(
        target,
        "evt_1",
        EventType.APPOINTMENT_CONFIRMED,
        b"{}",
        url,
        "secret",
        identifier_system="https://clinic.example/appointments",
        external_id="A-1",
        allow_loopback=True,
    )


def _by_name(url: str, port: int) -> str:
    return url.replace(f"127.0.0.1:{port}", f"{NAME}:{port}")


def test_a_webhook_goes_to_the_address_checked_with_the_name_as_its_host(
    receiver: Receiver,
) -> None:
    resolver = Resolver("127.0.0.1")
    answer = send(_call(_by_name(receiver.url, receiver.port)), Transport(resolve=resolver), 0)
    assert (answer.status, answer.error) == (200, None)
    assert resolver.asked == [(NAME, receiver.port)]
    [request] = receiver.received
    assert request.path == "/hooks/wesaid"
    assert request.headers["Host"] == f"{NAME}:{receiver.port}"


def test_the_fhir_write_back_goes_to_the_address_checked(fhir: FhirServer) -> None:
    port = int(fhir.base_url.split(":")[2].split("/")[0])
    fhir.add(
        {
            "resourceType": "Appointment",
            "status": "booked",
            "identifier": [{"system": "https://clinic.example/appointments", "value": "A-1"}],
            "participant": [
                {"actor": {"reference": "Patient/p1"}, "status": "needs-action"},
            ],
        }
    )
    url = _by_name(fhir.base_url, port)
    answer = send(_call(url, Target.FHIR), Transport(resolve=Resolver("127.0.0.1")), 0)
    assert (answer.status, answer.error) == (200, None)
    assert [(seen.method, seen.path) for seen in fhir.seen] == [
        ("GET", "/fhir/Appointment"),
        ("PUT", "/fhir/Appointment"),
    ]


def test_an_address_is_written_as_a_url_wants_it() -> None:
    ipv6 = Pinned.to("https://hooks.clinic.example:8443/e?x=1", "2606:4700:4700::1111")
    assert ipv6.url == "https://[2606:4700:4700::1111]:8443/e?x=1"
    assert ipv6.headers == {"Host": "hooks.clinic.example:8443"}
    ipv4 = Pinned.to("https://hooks.clinic.example/e", "93.184.216.34")
    assert (ipv4.url, ipv4.headers) == ("https://93.184.216.34/e", {"Host": "hooks.clinic.example"})


def test_through_a_proxy_the_name_is_left_to_the_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.trust.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    proxied = Pinned.to("https://hooks.clinic.example/e", "93.184.216.34")
    assert (proxied.url, proxied.headers) == ("https://hooks.clinic.example/e", {})


# -- over TLS ---------------------------------------------------------------------------


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A certificate authority made for these tests, and a certificate it signed for
    NAME and one for another name, each beside its key."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make the test certificates")
    here = tmp_path_factory.mktemp("tls")
    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(
        "req", "-x509", *curve, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=WeSaid test authority",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=here,
    )  # fmt: skip
    for leaf, name in (("right", NAME), ("wrong", "elsewhere.wesaid.test")):
        _openssl(
            "req", *curve, "-keyout", f"{leaf}.key", "-out", f"{leaf}.csr", "-subj", f"/CN={name}",
            cwd=here,
        )  # fmt: skip
        (here / f"{leaf}.ext").write_text(
            f"subjectAltName=DNS:{name}\nbasicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        )
        _openssl(
            "x509", "-req", "-in", f"{leaf}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{leaf}.pem", "-days", "2", "-extfile", f"{leaf}.ext",
            cwd=here,
        )  # fmt: skip
    return here


def _tls_receiver(authority: Path, leaf: str) -> Receiver:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(authority / f"{leaf}.pem", authority / f"{leaf}.key")
    return Receiver(tls=context)


@pytest.fixture
def trusting(authority: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(authority / "ca.pem"))
    for proxy in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    return authority


@pytest.fixture
def tls_receiver(trusting: Path) -> Iterator[Receiver]:
    with _tls_receiver(trusting, "right").running() as running:
        yield running


def test_over_tls_the_name_is_sent_and_its_certificate_checked(tls_receiver: Receiver) -> None:
    url = _by_name(tls_receiver.url, tls_receiver.port)
    assert url.startswith(f"https://{NAME}:")
    answer = send(_call(url), Transport(resolve=Resolver("127.0.0.1")), 0)
    assert (answer.status, answer.error) == (200, None)
    [request] = tls_receiver.received
    assert request.headers["Host"] == f"{NAME}:{tls_receiver.port}"


def test_over_tls_a_certificate_for_another_name_is_refused(trusting: Path) -> None:
    with _tls_receiver(trusting, "wrong").running() as wrong:
        url = _by_name(wrong.url, wrong.port)
        answer = send(_call(url), Transport(resolve=Resolver("127.0.0.1")), 0)
        assert (answer.status, answer.error) == (None, Reason.UNREACHABLE)
        assert wrong.received == []
