"""How the Alyx client fails when the network or the server misbehaves.

A real Alyx server cannot be made to answer late, reset a connection, cut a body
short or sit behind a failing proxy on cue, so these tests, and only these, talk
to the local stub of :mod:`tests.fault_server`. Each one checks that the right
:class:`AlyxError` subclass comes out, that its message says in plain words what
happened and where (never the password), and that it comes out in bounded time.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/ is not a package

from fault_server import (
    PASSWORD,
    USERNAME,
    Answer,
    FaultServer,
    refused_port,
    running_fault_server,
)

from pybpod_alyx_module.alyx import (
    AlyxClient,
    AlyxError,
    BadCredentialsError,
    BadResponseError,
    InvalidTokenError,
    NotFoundError,
    NothingListensError,
    NotLoggedInError,
    RetryPolicy,
    ServerBusyError,
    ServerError,
    ServerTimeoutError,
    ServerUnreachableError,
    TokenStore,
)

pytestmark = [pytest.mark.fault, pytest.mark.timeout(20)]

#: The client's (connect, read) timeout in these tests: short, so that faults are quick.
TIMEOUT = (1.0, 0.5)
#: Extra seconds allowed on every time bound: these are not performance tests.
SLACK = 3.0
#: The client's retry policy in these tests: the default, with its floor (the first wait
#: before a retry) scaled down as the timeouts are, so that a retry fits in a deadline.
POLICY = RetryPolicy(floor=0.1)

PROXY_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n"
    "<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


@pytest.fixture
def stub() -> Iterator[FaultServer]:
    with running_fault_server() as server:
        yield server


@pytest.fixture
def make_client() -> Iterator[Callable[..., AlyxClient]]:
    """Clients of the test, all closed at the end: ``make_client(address, **AlyxClient kwargs)``."""
    clients: list[AlyxClient] = []

    def make(address: str, **kwargs: Any) -> AlyxClient:
        options = {
            "username": USERNAME,
            "password": PASSWORD,
            "timeout": TIMEOUT,
            "retries": 1,
            "retry_policy": POLICY,
        }
        options.update(kwargs)
        clients.append(AlyxClient(address, **options))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


def budget(retries: int, timeout=TIMEOUT) -> float:
    """The longest a request may take: every attempt times out, plus the policy's waits and slack.

    The policy waits at most ``floor * 2 ** (n - 1)`` s before the n-th retry.
    """
    backoff = sum(POLICY.floor * 2 ** (n - 1) for n in range(1, retries + 1))
    return (retries + 1) * sum(timeout) + backoff + SLACK


@contextmanager
def within(seconds: float) -> Iterator[list[float]]:
    """Fail if the block takes longer than ``seconds``; yields a list that receives the time taken."""
    took: list[float] = []
    start = time.monotonic()
    try:
        yield took
    finally:
        took.append(time.monotonic() - start)
    assert took[0] < seconds, f"took {took[0]:.1f} s, more than {seconds:.1f} s"


def assert_plain(error: AlyxError, *words: str, secrets: Iterator[str] = ()) -> None:
    """The message names every one of ``words``, and neither the password nor a token."""
    text = str(error)
    for word in words:
        assert word in text, f"{word!r} missing from {text!r}"
    for secret in (PASSWORD, *secrets):
        assert secret not in text
        assert secret not in (error.detail or "")
        assert secret not in (error.url or "")


# -- no answer in time, or no answer at all ---------------------------------------------


def test_read_timeout_raises_server_timeout_within_the_timeout(stub, make_client):
    """A server that answers after the read timeout is reported as too slow, with the timeout."""
    stub.script("GET", "/api/slow", Answer.json([], delay=5))
    client = make_client(stub.url, token="token")
    with within(budget(retries=1)), pytest.raises(ServerTimeoutError) as caught:
        client.get("slow")
    assert_plain(caught.value, stub.url, "/api/slow", "0.5 s")


def test_read_timeout_is_retried_at_most_once_for_get(stub, make_client):
    """A read that times out may have reached the server: a GET is repeated once, not 3 times."""
    stub.script("GET", "/api/slow", Answer.json([], delay=5))
    client = make_client(stub.url, token="token", retries=3)
    with within(budget(retries=1)), pytest.raises(ServerUnreachableError) as caught:
        client.get("slow")
    assert stub.count("GET", "/api/slow") == 2
    assert_plain(caught.value, stub.url, "/api/slow", "0.5")


def test_read_timeout_on_post_is_not_retried(stub, make_client):
    """A POST that timed out may have created the record: repeating it could create it twice."""
    stub.script("POST", "/api/weighings", Answer.json({}, status=201, delay=5))
    client = make_client(stub.url, token="token", retries=3)
    with within(budget(retries=0)), pytest.raises(ServerTimeoutError) as caught:
        client.post("weighings", {"subject": "SW_001", "weight": 21.4})
    assert stub.count("POST", "/api/weighings") == 1
    assert_plain(caught.value, stub.url, "POST", "/api/weighings", "0.5 s")


def test_a_refused_connection_says_nothing_listens_there_at_once(make_client):
    """Nothing listening (server down, wrong port): said at once, not after the connect
    retries' waits, naming host and port and what to check (in the same words on Windows)."""
    with refused_port() as port:
        address = f"http://127.0.0.1:{port}"
        client = make_client(address, retries=3, retry_policy=RetryPolicy(floor=2.0))
        with within(1.5), pytest.raises(NothingListensError) as caught:
            client.login()
    assert isinstance(caught.value, ServerUnreachableError)
    assert not isinstance(caught.value, ServerTimeoutError)
    assert_plain(
        caught.value,
        address,
        f"nothing listens at 127.0.0.1:{port}",
        "Is the Alyx server running, and is the port right?",
    )


def test_a_policy_may_allow_retries_after_a_refused_connection(make_client):
    """``refused_retries`` is data: with one, a refused connection is tried twice (one wait)."""
    with refused_port() as port:
        client = make_client(
            f"http://127.0.0.1:{port}",
            retries=3,
            retry_policy=RetryPolicy(floor=0.6, jitter=0, refused_retries=1),
        )
        with pytest.raises(NothingListensError), within(3.0) as took:
            client.login()
    assert took[0] >= 0.6  # one wait of the floor: the one retry


def test_connection_reset_mid_request_raises_server_unreachable(stub, make_client):
    """A connection reset (RST) instead of an answer is a network failure, retried once for GET."""
    stub.script("GET", "/api/subjects", Answer.reset())
    client = make_client(stub.url, token="token", retries=3)
    with within(budget(retries=1)), pytest.raises(ServerUnreachableError) as caught:
        client.get("subjects")
    # urllib3 sees the RST while reading the status line: a "read" error (ProtocolError
    # 'Connection aborted.'), hence one retry only, whatever `retries` says.
    assert stub.count("GET", "/api/subjects") == 2
    assert_plain(caught.value, stub.url, "/api/subjects", "reset")


# -- answers that are not Alyx's ---------------------------------------------------------


def test_proxy_502_html_page_raises_server_error_naming_the_page_title(stub, make_client):
    """nginx's 502 page, still there after the retries, is reported by its title, not its HTML."""
    stub.script("GET", "/api/subjects", Answer.html(PROXY_502, status=502))
    client = make_client(stub.url, token="token", retries=2)
    with within(budget(retries=2)), pytest.raises(ServerError) as caught:
        client.get("subjects")
    assert stub.count("GET", "/api/subjects") == 3
    assert caught.value.status == 502
    assert_plain(caught.value, "HTTP 502", "502 Bad Gateway", "/api/subjects")
    assert "<" not in str(caught.value)


def test_html_page_instead_of_json_raises_bad_response(stub, make_client):
    """A 200 HTML page (a login portal, a wrong address) where JSON was expected."""
    stub.script("GET", "/api/subjects", Answer.html("<html><title>Welcome</title></html>"))
    client = make_client(stub.url, token="token")
    with within(SLACK), pytest.raises(BadResponseError) as caught:
        client.get("subjects")
    assert_plain(caught.value, f"{stub.url}/api/subjects", "text/html", "Alyx")


def test_500_raises_server_error_without_retry(stub, make_client):
    """A 500 is a bug on the server, not a passing state: asking again would not help."""
    stub.script("GET", "/api/subjects", Answer.json({"detail": "Server crashed."}, status=500))
    client = make_client(stub.url, token="token", retries=3)
    with within(SLACK), pytest.raises(ServerError) as caught:
        client.get("subjects")
    assert stub.count("GET", "/api/subjects") == 1
    assert_plain(caught.value, "HTTP 500", "Server crashed.", "/api/subjects")


def test_truncated_json_with_correct_length_raises_bad_response(stub, make_client):
    """The server sent all it announced, but the JSON stops half-way."""
    stub.script("GET", "/api/subjects", Answer.raw(b'{"count": 3, "results": [{"nickname"'))
    client = make_client(stub.url, token="token")
    with within(SLACK), pytest.raises(BadResponseError) as caught:
        client.get("subjects")
    assert_plain(caught.value, f"{stub.url}/api/subjects", '{"count": 3')


def test_body_cut_short_raises_server_unreachable_without_hanging(stub, make_client):
    """Fewer bytes than Content-Length, then the connection closes.

    This is ServerUnreachableError, not BadResponseError: the server did not send
    a wrong answer, the connection broke while it was sending (urllib3 raises
    IncompleteRead, which requests surfaces as ChunkedEncodingError although the body
    is not chunked). The body is read by requests after urllib3 returned, so the
    retry policy never sees it: not retried.
    """
    stub.script("GET", "/api/subjects", Answer.cut(b'{"count": 3, "results": [', length=4096))
    client = make_client(stub.url, token="token", retries=3)
    with within(budget(retries=0)), pytest.raises(ServerUnreachableError) as caught:
        client.get("subjects")
    assert not isinstance(caught.value, ServerTimeoutError)
    assert stub.count("GET", "/api/subjects") == 1
    assert_plain(caught.value, stub.url, "/api/subjects", "IncompleteRead")


# -- "try again later" ----------------------------------------------------------------------


def test_429_with_short_retry_after_waits_then_returns_the_data(stub, make_client):
    """Django's throttling asks to wait 1 s: the client waits that long and gets the data."""
    stub.script(
        "GET",
        "/api/subjects",
        Answer.json({"detail": "Request was throttled."}, status=429, headers={"Retry-After": "1"}),
        Answer.json([{"nickname": "SW_001"}]),
    )
    client = make_client(stub.url, token="token")
    with within(1 + SLACK) as took:
        data = client.get("subjects")
    assert data == [{"nickname": "SW_001"}]
    assert took[0] >= 1.0
    assert stub.count("GET", "/api/subjects") == 2


def test_429_with_long_retry_after_raises_server_busy_at_once(stub, make_client):
    """A server asking for an hour's wait gets no retry: the user is told at once, with the
    wait, and the caller when to come back (the policy's ceiling, 300 s)."""
    stub.script(
        "GET",
        "/api/subjects",
        Answer.json({"detail": "Throttled."}, status=429, headers={"Retry-After": "3600"}),
    )
    client = make_client(stub.url, token="token", retries=3)
    with within(SLACK), pytest.raises(ServerBusyError) as caught:
        client.get("subjects")
    assert stub.count("GET", "/api/subjects") == 1
    assert caught.value.status == 429 and caught.value.retry_after == POLICY.ceiling
    assert_plain(caught.value, "HTTP 429", "3600 s", "/api/subjects")


def test_unparsable_retry_after_is_retried_like_no_retry_after(stub, make_client):
    """A proxy's malformed ``Retry-After: soon`` is ignored: plain backoff, then the data."""
    stub.script(
        "GET",
        "/api/subjects",
        Answer.json({}, status=503, headers={"Retry-After": "soon"}),
        Answer.json([]),
    )
    client = make_client(stub.url, token="token")
    with within(budget(retries=1)):
        assert client.get("subjects") == []


def test_503_on_post_is_not_retried(stub, make_client):
    """A POST is never repeated, even on a 'try again' status: it might have been applied."""
    stub.script("POST", "/api/weighings", Answer.json({"detail": "Maintenance."}, status=503))
    client = make_client(stub.url, token="token", retries=3)
    with within(SLACK), pytest.raises(ServerError) as caught:
        client.post("weighings", {"subject": "SW_001", "weight": 21.4})
    assert stub.count("POST", "/api/weighings") == 1
    assert_plain(caught.value, "HTTP 503", "Maintenance.", "POST", "/api/weighings")


# -- lists and pages ----------------------------------------------------------------------


def test_list_of_wrong_shape_raises_bad_response(stub, make_client):
    """A JSON object without ``results`` is not an Alyx list, whatever else it holds."""
    stub.script("GET", "/api/subjects", Answer.json({"foo": 1}))
    client = make_client(stub.url, token="token")
    with within(SLACK), pytest.raises(BadResponseError) as caught:
        list(client.list("subjects"))
    assert_plain(caught.value, f"{stub.url}/api/subjects", "results")


@pytest.mark.parametrize("second_page", [False, True], ids=["self-loop", "two-page-loop"])
def test_pagination_loop_raises_bad_response(stub, make_client, second_page):
    """A ``next`` link back to a page already read would loop forever: it is refused."""
    first = f"{stub.url}/api/subjects"
    if second_page:
        stub.script("GET", "/api/subjects", Answer.json(_page(["a"], first + "?page=2")))
        stub.script("GET", "/api/subjects?page=2", Answer.json(_page(["b"], first)))
    else:
        stub.script("GET", "/api/subjects", Answer.json(_page(["a"], first)))
    client = make_client(stub.url, token="token")
    with within(SLACK), pytest.raises(BadResponseError) as caught:
        list(client.list("subjects"))
    assert stub.count("GET", "/api/subjects") == (2 if second_page else 1)
    assert_plain(caught.value, first, "loop")


def test_pagination_yields_every_item_in_order_rerooted_on_the_client_address(stub, make_client):
    """Three pages, each item once and in order; ``next`` links written by Django behind a
    TLS proxy (``https://alyx.internal:8443``) are followed on the address the client uses.
    """
    elsewhere = "https://alyx.internal:8443/api/subjects"
    stub.script("GET", "/api/subjects", Answer.json(_page([1, 2], elsewhere + "?page=2")))
    stub.script("GET", "/api/subjects?page=2", Answer.json(_page([3, 4], elsewhere + "?page=3")))
    stub.script("GET", "/api/subjects?page=3", Answer.json(_page([5], None)))
    client = make_client(stub.url, token="token")
    with within(SLACK):
        items = list(client.list("subjects", alive=True))
    assert items == [{"n": n} for n in (1, 2, 3, 4, 5)]
    targets = [seen.target for seen in stub.seen("GET", "/api/subjects")]
    # The first page is asked small (it says how many there are); these pages have no
    # limit/offset, so the client follows ``next`` one page after another.
    first = "/api/subjects?alive=True&limit=50"
    assert targets == [first, "/api/subjects?page=2", "/api/subjects?page=3"]


def test_a_record_url_on_another_host_is_fetched_from_the_client_address(stub, make_client):
    """A record's ``url`` written for another host (or plain http) never takes the token there."""
    foreign = "http://elsewhere.invalid:9/api/subjects/lab__x"
    stub.script("GET", "/api/subjects/lab__x", Answer.json({"id": "x", "weighings": []}))
    client = make_client(stub.url, token="token")
    with within(SLACK):
        assert client.get(foreign) == {"id": "x", "weighings": []}
    (seen,) = stub.seen("GET", "/api/subjects/lab__x")
    assert seen.headers["Authorization"] == "Token token"


def _page(items: list[Any], next_url: Any, count: int = 5) -> dict:
    results = [item if isinstance(item, dict) else {"n": item} for item in items]
    return {"count": count, "next": next_url, "previous": None, "results": results}


# -- tokens and passwords -----------------------------------------------------------------

INVALID_TOKEN = Answer.json({"detail": "Invalid token."}, status=403)


def test_expired_token_with_password_logs_in_again_once_and_retries(stub, make_client):
    """With the password at hand, an expired token costs one new login, not an error."""
    stub.script("GET", "/api/subjects", INVALID_TOKEN, Answer.json([{"nickname": "SW_001"}]))
    client = make_client(stub.url, token="expired-token")
    with within(SLACK):
        data = client.get("subjects")
    assert data == [{"nickname": "SW_001"}]
    assert stub.count("POST", "/api/auth-token") == 1
    first, second = stub.seen("GET", "/api/subjects")
    assert first.headers["Authorization"] == "Token expired-token"
    assert second.headers["Authorization"] == f"Token {stub.tokens[0]}"


def test_expired_token_without_password_raises_invalid_token_and_forgets_it(
    stub, make_client, tmp_path
):
    """Without a password the user must log in again; the dead token is no longer offered."""
    store = TokenStore(tmp_path / "tokens.json")
    root = f"{stub.url}/api"
    store.save(root, USERNAME, "expired-token")
    stub.script("GET", "/api/subjects", INVALID_TOKEN)
    client = make_client(stub.url, password=None, token_store=store)
    with within(SLACK), pytest.raises(InvalidTokenError) as caught:
        client.get("subjects")
    assert stub.count("POST", "/api/auth-token") == 0
    assert store.get(root, USERNAME) is None
    assert client.token is None
    assert_plain(caught.value, "Invalid token.", "log in again", secrets=["expired-token"])


def test_wrong_password_raises_bad_credentials_naming_user_and_address(stub, make_client):
    """Alyx's 400 on login is the user's typo: say whose login, and where, not the password."""
    client = make_client(stub.url, password="not-the-password")
    with within(SLACK), pytest.raises(BadCredentialsError) as caught:
        client.login()
    assert_plain(
        caught.value,
        f"'{USERNAME}'",
        stub.url,
        "Unable to log in with provided credentials.",
        secrets=["not-the-password"],
    )
    assert client.token is None


def test_a_token_no_header_can_carry_is_never_sent(stub, make_client, tmp_path):
    """A damaged token file holding ``tök`` would make http.client fail with a traceback:
    the token is dropped, the saved one forgotten, and the user asked to log in."""
    store = TokenStore(tmp_path / "tokens.json")
    store.save(f"{stub.url}/api", USERNAME, "tök\u2028n")
    client = make_client(stub.url, password=None, token="tök", token_store=store)
    with within(SLACK), pytest.raises(NotLoggedInError):
        client.get("subjects")
    assert stub.count("GET", "/api/subjects") == 0
    assert store.get(f"{stub.url}/api", USERNAME) is None


def test_a_login_answered_with_a_token_no_header_can_carry_is_refused(stub, make_client):
    stub.script("POST", "/api/auth-token", Answer.json({"token": "a b\nc"}))
    client = make_client(stub.url)
    with within(SLACK), pytest.raises(BadResponseError) as caught:
        client.login()
    assert_plain(caught.value, "without a token", "printable ASCII")
    assert client.token is None


# -- finding the API root ----------------------------------------------------------------


@pytest.mark.parametrize("typed", ["{url}/", "{url}/api/"])
def test_address_as_typed_finds_the_api_root(stub, make_client, typed):
    """alyx-local's API under ``/api`` is found whether or not the user typed it."""
    client = make_client(typed.format(url=stub.url))
    with within(SLACK):
        assert client.api_root == f"{stub.url}/api"
        client.login()
    assert client.token == stub.tokens[0]


def test_address_without_alyx_raises_not_found(stub, make_client):
    """An address where neither root has ``auth-token`` is not an Alyx server: say what was tried."""
    address = f"{stub.url}/elsewhere"
    client = make_client(address + "/")
    with within(SLACK), pytest.raises(NotFoundError) as caught:
        client.login()
    assert_plain(
        caught.value,
        address,
        f"{address}/auth-token (HTTP 404)",
        f"{address}/api/auth-token (HTTP 404)",
    )
