"""What a server says reaches the user cut to a sane length, and never with a secret in it.

Fault tests: no real Alyx answers 50 MB error pages or echoes the password it was sent,
so the stub of :mod:`tests.fault_server` does.
"""

from __future__ import annotations

import json
import sys
import tracemalloc
from html import escape
from pathlib import Path
from urllib.parse import parse_qs, quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))  # tests/ is not a package

from fault_server import USERNAME, Answer
from test_client_faults import make_client, stub

from pybpod_alyx_module.alyx import (
    AlyxError,
    BadCredentialsError,
    BadResponseError,
    RedirectRefusedError,
    ServerError,
    ServerUnreachableError,
)
from pybpod_alyx_module.alyx import exchange as exchange_module
from pybpod_alyx_module.alyx.errors import MESSAGE_LIMIT
from pybpod_alyx_module.alyx.server_words import WORDS_LIMIT

__all__ = ["make_client", "stub"]  # fixtures shared with test_client_faults

pytestmark = [pytest.mark.fault, pytest.mark.timeout(120)]

GENERATED = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
#: Text a server may send: any character but surrogates (which cannot travel as UTF-8).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)
SECRETS = st.text(st.characters(blacklist_categories=("Cs",)), min_size=6, max_size=40)
#: A token travels in a header: printable ASCII without spaces (others are never sent).
TOKENS = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=6, max_size=40)
#: How a server may spell back what it was sent.
ECHOES = st.sampled_from([str, quote, escape, lambda s: json.dumps(s)[1:-1]])


def assert_secret_free(error: AlyxError, *secrets: str) -> None:
    """Bounded, and no secret in what a person or a log could see of ``error``."""
    seen = [str(error), repr(error), error.detail or "", error.url or ""]
    assert len(str(error)) <= MESSAGE_LIMIT
    assert len(error.detail or "") <= WORDS_LIMIT
    for secret in secrets:
        for text in seen:
            assert secret not in text


def body_with(kind: str, words: str, status: int) -> Answer:
    if kind == "detail":
        return Answer.json({"detail": words}, status=status)
    if kind == "fields":
        return Answer.json({"users": [words, words], "subject": words}, status=status)
    if kind == "title":
        return Answer.html(f"<html><title>{words}</title><body>{words}</body></html>", status)
    return Answer(status, words.encode(), {"Content-Type": "text/plain; charset=utf-8"})


@GENERATED
@given(
    password=SECRETS,
    token=TOKENS,
    before=TEXT,
    after=TEXT,
    padding=st.integers(0, 200_000),
    echo=ECHOES,
    kind=st.sampled_from(["detail", "fields", "title", "text"]),
    status=st.sampled_from([400, 403, 404, 409, 500, 503]),
)
def test_an_error_body_of_any_size_is_bounded_and_echoes_no_secret(
    stub, make_client, password, token, before, after, padding, echo, kind, status
):
    words = f"{before}{echo(password)} {'x' * padding}{echo(token)}{after}"
    stub.route("POST", "/api/sessions", lambda seen: body_with(kind, words, status))
    client = make_client(stub.url, password=password, token=token)
    with pytest.raises(AlyxError) as caught:
        client.post("sessions", {"subject": "SW_001"})
    assert caught.value.status == status
    assert_secret_free(caught.value, password, token, echo(password), echo(token))


@GENERATED
@given(password=SECRETS, echo=ECHOES, kind=st.sampled_from(["detail", "fields", "title"]))
def test_a_login_refusal_that_echoes_the_password_never_shows_it(
    stub, make_client, password, echo, kind
):
    """The server repeats the password it received, spelled as it likes: not shown."""

    def refuse(seen):
        received = parse_qs(seen.body.decode())["password"][0]
        return body_with(kind, f"wrong password {echo(received)} for {USERNAME}", 400)

    stub.route("POST", "/api/auth-token", refuse)
    client = make_client(stub.url, password=password)
    with pytest.raises(BadCredentialsError) as caught:
        client.login()
    assert f"'{USERNAME}'" in str(caught.value)
    assert_secret_free(caught.value, password, echo(password))


def test_a_50_mb_error_page_is_neither_read_whole_nor_shown(stub, make_client):
    """The issue's case: a 50 MB error body. At most 64 KiB of it is read (memory stays
    far under its size) and the message holds a few hundred characters of it."""
    page = Answer.json({"detail": "Boom " * 10_000_000}, status=500)
    stub.route("POST", "/api/sessions", lambda seen: page)
    client = make_client(stub.url, token="a-token-0123456789abcdef0123456789abcdef")
    tracemalloc.start()
    try:
        with pytest.raises(ServerError) as caught:
            client.post("sessions", {})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * 2**20, f"{peak:,} bytes held to read a 50 MB error"
    assert len(str(caught.value)) <= MESSAGE_LIMIT
    assert "HTTP 500" in str(caught.value)


def test_a_success_larger_than_the_cap_is_refused_naming_the_cap(stub, make_client, monkeypatch):
    monkeypatch.setattr(exchange_module, "BODY_LIMIT", 2**20)
    stub.script("GET", "/api/subjects", Answer.raw(b"[" + b"0," * 2**20 + b"0]"))
    client = make_client(stub.url, token="a-token-0123456789abcdef0123456789abcdef")
    with pytest.raises(BadResponseError) as caught:
        client.get("subjects")
    assert "more than 1 MiB" in str(caught.value) and "/api/subjects" in str(caught.value)


def test_a_huge_redirect_location_is_cut(stub, make_client):
    location = f"http://elsewhere.invalid/{'p' * 30_000}"
    stub.script("GET", "/api/subjects", Answer(302, headers={"Location": location}))
    client = make_client(stub.url, token="a-token-0123456789abcdef0123456789abcdef")
    with pytest.raises(RedirectRefusedError) as caught:
        client.get("subjects")
    assert "http://elsewhere.invalid/ppp" in str(caught.value)
    assert len(str(caught.value)) <= MESSAGE_LIMIT and len(caught.value.url) <= WORDS_LIMIT


@GENERATED
@given(password=SECRETS, padding=st.integers(0, 60_000))
def test_a_non_http_answer_quoting_the_password_is_bounded(stub, make_client, password, padding):
    """Not even a status line: urllib3 quotes the bytes it got; the message does not."""
    junk = f"JUNK {password} {'y' * padding}\r\n\r\n".encode()
    stub.route("POST", "/api/subjects", lambda seen: Answer.raw_bytes(junk))
    client = make_client(stub.url, password=password, token="a-token-0123456789abcdef01234567")
    with pytest.raises(ServerUnreachableError) as caught:
        client.post("subjects", {})
    assert_secret_free(caught.value, password)


@GENERATED
@given(password=SECRETS, echo=ECHOES)
def test_a_200_page_that_is_not_json_echoes_no_secret(stub, make_client, password, echo):
    stub.route("GET", "/api/subjects", lambda seen: Answer.html(f"{echo(password)}<p>hi</p>"))
    client = make_client(stub.url, password=password, token="a-token-0123456789abcdef01234567")
    with pytest.raises(BadResponseError) as caught:
        client.get("subjects")
    assert_secret_free(caught.value, password, echo(password))
