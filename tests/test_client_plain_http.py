"""An ``https://`` address typed for a plain-HTTP server: said so, with the http:// to type.

The real Alyx of the tests speaks plain HTTP, so the first test types ``https://`` for it.
The others are *fault tests* on the local stub (:mod:`tests.fault_server`, plain HTTP too):
a stub answers a TLS hello at once with an HTTP error (a TLS protocol error), where
gunicorn waits (a handshake timeout), and only the stub can be a plain-HTTP site that is
not an Alyx, and a TLS server whose certificate is not trusted (named as such). In
no case does the client send the password over http, nor switch by itself.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/ is not a package

from fault_server import PASSWORD, USERNAME, Answer, running_fault_server

from pybpod_alyx_module.alyx import AlyxClient, RetryPolicy, ServerUnreachableError

#: The client's (connect, read) timeout in the fault tests: short, so that faults are quick.
TIMEOUT = (1.0, 1.0)


def test_https_typed_for_the_real_plain_http_alyx_says_so_and_what_to_type(alyx_server):
    """Before: "did not answer within 60 s" after 13 s. Now: it looks like a plain-HTTP
    server, type http://…, within the handshake's connect timeouts (5 s each)."""
    host = alyx_server.base_url.removeprefix("http://")
    client = AlyxClient(f"https://{host}", username="alice", password=PASSWORD)
    start = time.monotonic()
    with client, pytest.raises(ServerUnreachableError) as caught:
        client.login()
    took = time.monotonic() - start
    text = str(caught.value)
    assert "looks like a plain-HTTP server" in text
    assert f"type http://{host} " in text
    assert "60 s" not in text
    assert took < 30, f"took {took:.1f} s"


@pytest.mark.fault
def test_https_typed_for_a_plain_http_alyx_answering_at_once_says_so():
    """A server that answers the TLS hello with a plain-HTTP error (a TLS protocol error)."""
    with running_fault_server() as stub:
        host = stub.url.removeprefix("http://")
        client = AlyxClient(
            f"https://{host}", username=USERNAME, password=PASSWORD, timeout=TIMEOUT
        )
        with client, pytest.raises(ServerUnreachableError) as caught:
            client.login()
        text = str(caught.value)
        assert "looks like a plain-HTTP server" in text and f"type http://{host} " in text
        assert "certificate" not in text
        # only the probe without credentials reached plain http: no login, no password
        assert stub.count("POST", "/api/auth-token") == 0
        assert all(PASSWORD not in str(seen) for seen in stub.requests)


@pytest.mark.fault
def test_https_typed_for_a_plain_http_site_that_is_no_alyx_suggests_nothing():
    """Only an Alyx answering over http is suggested: a plain web site is not."""
    with running_fault_server() as stub:
        for root in ("", "/api"):
            stub.script("GET", f"{root}/auth-token", Answer.html("<title>Not Found</title>", 404))
        host = stub.url.removeprefix("http://")
        client = AlyxClient(
            f"https://{host}",
            username=USERNAME,
            password=PASSWORD,
            timeout=TIMEOUT,
            retries=0,
            retry_policy=RetryPolicy(floor=0.1),
        )
        with client, pytest.raises(ServerUnreachableError) as caught:
            client.login()
    assert "plain-HTTP" not in str(caught.value) and "http://" not in str(caught.value)


@pytest.mark.fault
def test_no_scheme_typed_for_a_plain_http_alyx_says_an_alyx_answers_there():
    """https was assumed (no scheme typed): the message says an Alyx answers plain HTTP."""
    with running_fault_server() as stub:
        host = stub.url.removeprefix("http://")
        client = AlyxClient(host, username=USERNAME, password=PASSWORD, timeout=TIMEOUT)
        with client, pytest.raises(ServerUnreachableError) as caught:
            client.login()
    text = str(caught.value)
    assert "https was assumed" in text
    assert f"An Alyx answers plain HTTP there: type http://{host} " in text


@pytest.fixture
def self_signed_tls_port(tmp_path):
    """A local TLS server with a self-signed certificate (no client trusts it)."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            with connection:
                connection.settimeout(2)
                try:
                    context.wrap_socket(connection, server_side=True).close()
                except OSError:
                    pass  # the client refused the certificate, or spoke plain HTTP

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(5)
    listener.close()


@pytest.mark.fault
def test_an_untrusted_certificate_is_named_as_such_and_suggests_no_http(self_signed_tls_port):
    """A real TLS server whose certificate fails: the certificate is named, http is not."""
    address = f"https://127.0.0.1:{self_signed_tls_port}"
    client = AlyxClient(address, username=USERNAME, password=PASSWORD, timeout=TIMEOUT, retries=0)
    with client, pytest.raises(ServerUnreachableError) as caught:
        client.login()
    text = str(caught.value)
    assert f"Could not verify the TLS certificate of {address}" in text
    assert "http://" not in text
