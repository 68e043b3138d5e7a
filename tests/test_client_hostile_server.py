"""A hostile or broken server cannot take the credentials elsewhere or hold a request forever.

Fault tests: a real Alyx never redirects a login or drips its answers, so these talk
to the local stub of :mod:`tests.fault_server` (and a second stub as "another host").
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/ is not a package

from fault_server import PASSWORD, Answer, FaultServer, running_fault_server
from test_client_faults import SLACK, TIMEOUT, assert_plain, make_client, stub, within

from pybpod_alyx_module.alyx import (
    RedirectRefusedError,
    ServerTimeoutError,
    ServerUnreachableError,
    TokenStore,
)
from pybpod_alyx_module.alyx.deadline import total_deadline

__all__ = ["make_client", "stub"]  # fixtures shared with test_client_faults

pytestmark = [pytest.mark.fault, pytest.mark.timeout(30)]

#: The total deadline of one request with the tests' timeouts (1 s connect, 0.5 s read).
DEADLINE = total_deadline(TIMEOUT)
TOKEN = "secret-token-0123456789abcdef"


@pytest.fixture
def elsewhere() -> Iterator[FaultServer]:
    """Another host: whatever reaches it has left the origin the user typed."""
    with running_fault_server() as server:
        yield server


# -- redirects ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirected_login_is_refused_and_the_password_goes_nowhere(
    stub, elsewhere, make_client, tmp_path, status
):
    """A login answered by a redirect to another host is an error naming that host; the
    password is sent once, to the typed address, and no token is saved."""
    target = f"{elsewhere.url}/api/auth-token"
    stub.script("POST", "/api/auth-token", Answer(status, headers={"Location": target}))
    store = TokenStore(tmp_path / "tokens.json")
    client = make_client(stub.url, token_store=store)
    with within(SLACK), pytest.raises(RedirectRefusedError) as caught:
        client.login()
    assert elsewhere.requests == []
    assert stub.count("POST", "/api/auth-token") == 1
    assert caught.value.status == status and caught.value.url == target
    assert_plain(caught.value, target, f"HTTP {status}", stub.url)
    assert client.token is None
    assert not (tmp_path / "tokens.json").exists()


def test_a_redirect_to_plain_http_or_with_an_echoed_password_names_no_secret(
    stub, elsewhere, make_client
):
    """The Location is quoted without its query or user part, where a server could echo
    what it was sent."""
    location = f"http://alice:{PASSWORD}@127.0.0.1:{elsewhere.port}/login?password={PASSWORD}"
    stub.script("POST", "/api/auth-token", Answer(307, headers={"Location": location}))
    client = make_client(stub.url)
    with within(SLACK), pytest.raises(RedirectRefusedError) as caught:
        client.login()
    assert_plain(caught.value, f"{elsewhere.url}/login")
    assert elsewhere.requests == []


@pytest.mark.parametrize("method", ["GET", "POST", "PATCH"])
@pytest.mark.parametrize("same_host", [False, True], ids=["other-host", "same-host"])
def test_a_redirected_request_with_a_token_is_refused_wherever_it_points(
    stub, elsewhere, make_client, method, same_host
):
    """No request carrying the token follows a redirect, not even to the same host: the
    token never reaches another origin and the error says where the server pointed."""
    server = stub if same_host else elsewhere
    target = f"{server.url}/api/moved"
    stub.script(method, "/api/subjects", Answer(307, headers={"Location": target}))
    client = make_client(stub.url, token=TOKEN)
    call = {
        "GET": lambda: client.get("subjects"),
        "POST": lambda: client.post("subjects", {"nickname": "x"}),
        "PATCH": lambda: client.patch("subjects", {"nickname": "x"}),
    }[method]
    with within(SLACK), pytest.raises(RedirectRefusedError) as caught:
        call()
    assert server.count(method, "/api/moved") == 0
    assert all("Authorization" not in seen.headers for seen in elsewhere.requests)
    assert stub.count(method, "/api/subjects") == 1
    assert_plain(caught.value, target, "HTTP 307", secrets=[TOKEN])


def test_a_redirected_list_page_is_refused(stub, elsewhere, make_client):
    """A page of a list answered by a redirect stops the list with the same error."""
    stub.script("GET", "/api/subjects", Answer(302, headers={"Location": elsewhere.url + "/x"}))
    client = make_client(stub.url, token=TOKEN)
    with within(SLACK), pytest.raises(RedirectRefusedError):
        list(client.list("subjects"))
    assert elsewhere.requests == []


def test_an_address_that_redirects_while_finding_the_api_is_named(stub, elsewhere, make_client):
    """A typed address that redirects (a moved server, http to https) is reported with the
    address it points to, before any password is sent."""
    stub.script("GET", "/auth-token", Answer(301, headers={"Location": elsewhere.url + "/"}))
    client = make_client(stub.url)
    with within(SLACK), pytest.raises(RedirectRefusedError) as caught:
        client.login()
    assert_plain(caught.value, f"{elsewhere.url}/", "HTTP 301", "new address")
    assert stub.count("POST", "/api/auth-token") == 0 and elsewhere.requests == []


# -- slow drip ------------------------------------------------------------------------------


@pytest.mark.parametrize("headers_too", [True, False], ids=["headers", "body"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_server_dripping_its_answer_hits_the_total_deadline(
    stub, make_client, headers_too, method
):
    """One byte every 0.2 s never trips the 0.5 s read timeout; the request's total
    deadline (connect + 2 x read) stops it, and the error names the deadline."""
    answer = Answer.drip({"results": ["x" * 200]}, interval=0.2, headers_too=headers_too)
    stub.script(method, "/api/subjects", answer)
    client = make_client(stub.url, token=TOKEN, retries=3)
    call = client.get if method == "GET" else lambda path: client.post(path, {})
    with within(DEADLINE + SLACK) as took, pytest.raises(ServerTimeoutError) as caught:
        call("subjects")
    assert took[0] >= DEADLINE - 0.1
    assert stub.count(method, "/api/subjects") == 1  # the deadline covers the retries too
    assert_plain(caught.value, f"{DEADLINE:g} s deadline", "/api/subjects", secrets=[TOKEN])


def test_a_slow_answer_within_the_deadline_is_read_whole(stub, make_client):
    """The deadline cuts only what exceeds it: a body dripped over ~1 s arrives whole."""
    stub.script("GET", "/api/subjects", Answer.drip([1, 2, 3], interval=0.1))
    client = make_client(stub.url, token=TOKEN)
    with within(DEADLINE + SLACK):
        assert client.get("subjects") == [1, 2, 3]


def test_the_default_deadline_derives_from_the_timeouts(make_client, stub):
    """Connect plus twice the read timeout: 125 s with the default (5, 60)."""
    assert make_client(stub.url, timeout=(5, 60)).deadline == 125
    assert make_client(stub.url, timeout=3).deadline == 9


# -- an address typed without a scheme -----------------------------------------------------


def test_an_address_without_scheme_on_a_plain_http_server_suggests_http(stub, make_client):
    """``127.0.0.1:PORT`` assumes https; a plain-http server never completes the TLS
    handshake. The error says what was tried and suggests http://, within the connect
    timeout, and no password was sent anywhere."""
    typed = stub.url.removeprefix("http://")
    client = make_client(typed, retries=3)
    with within(TIMEOUT[0] + SLACK), pytest.raises(ServerUnreachableError) as caught:
        client.login()
    assert_plain(caught.value, f"https://{typed}", "https was assumed", f"type http://{typed}")
    assert stub.count("POST", "/api/auth-token") == 0


# -- a busy server (HTTP 429) ----------------------------------------------------------------

BUSY = Answer.json({"detail": "Request was throttled."}, status=429, headers={"Retry-After": "1"})


def test_a_throttled_login_is_waited_out_and_the_wait_reported(stub, make_client):
    """A login refused by the throttle (429: nothing was done) is sent again after the wait
    the server asks for, reported through ``on_wait``."""
    stub.script("POST", "/api/auth-token", BUSY, Answer.json({"token": TOKEN}))
    waits = []
    client = make_client(stub.url, on_wait=lambda seconds, message: waits.append(message))
    with within(1 + SLACK):
        assert client.login() == TOKEN
    assert stub.count("POST", "/api/auth-token") == 2
    assert len(waits) == 1 and "waiting 1 s" in waits[0] and "auth-token" in waits[0]
    assert PASSWORD not in waits[0]


def test_a_throttled_post_is_sent_again_and_created_once(stub, make_client, caplog):
    """A 429 means the throttle refused the write before acting: sending it again is safe.
    Without ``on_wait`` the wait is logged as a warning (what the command line shows)."""
    stub.script("POST", "/api/weighings", BUSY, Answer.json({"weight": 21.4}, status=201))
    client = make_client(stub.url, token=TOKEN)
    with within(1 + SLACK):
        assert client.post("weighings", {"weight": 21.4}) == {"weight": 21.4}
    assert stub.count("POST", "/api/weighings") == 2
    assert "busy (HTTP 429): waiting 1 s" in caplog.text
