"""A server's words are cut to a bounded length and scrubbed of every secret, whatever they hold."""

from __future__ import annotations

import gc

from hypothesis import given, settings
from hypothesis import strategies as st

from pybpod_alyx_module.alyx import AlyxClient, AlyxError
from pybpod_alyx_module.alyx.server_words import HIDDEN, bounded, forget, hide, scrubbed, shown

GENERATED = settings(max_examples=300, deadline=None, derandomize=True)
SECRET = st.text(min_size=1, max_size=12)


@GENERATED
@given(text=st.text(max_size=3000), limit=st.integers(0, 1000))
def test_bounded_text_is_short_and_says_when_it_was_cut(text, limit):
    cut = bounded(text, limit)
    if len(text) <= limit:
        assert cut == text
    else:
        assert len(cut) <= limit // 2 + 40 and "characters, cut" in cut
        assert cut.startswith(text[: limit // 2])


@GENERATED
@given(
    pieces=st.lists(st.text(max_size=20), max_size=6),
    secrets=st.lists(SECRET, min_size=1, max_size=3),
    data=st.data(),
)
def test_no_secret_survives_scrubbing_even_overlapping_or_inside_the_marker(pieces, secrets, data):
    """Secrets anywhere, overlapping each other or forming ``[hidden]`` with their
    neighbours (a password such as ``n]``): none is left in the result."""
    choices = [*secrets, HIDDEN, *(pieces or [""])]
    mixed = [data.draw(st.sampled_from(choices)) for _ in range(8)]
    text = "".join(mixed)
    result = scrubbed(text, secrets)
    assert all(secret not in result for secret in secrets)


@GENERATED
@given(
    text=st.text(alphabet="abcdefgh ,.:", max_size=80),
    secret=st.text(alphabet="ABCDEFGH0123", min_size=1, max_size=12),
)
def test_text_without_a_secret_is_left_as_it_was(text, secret):
    assert scrubbed(text, [secret, None, ""]) == text


def test_echoed_spellings_of_a_secret_are_scrubbed_too():
    secret = 'p@ss  "word"/<b>'
    for echo in [
        "p%40ss%20%20%22word%22%2F%3Cb%3E",  # percent-encoded
        "p%40ss++%22word%22%2F%3Cb%3E",  # a form's encoding
        "p@ss  &quot;word&quot;/&lt;b&gt;",  # HTML
        'p@ss  \\"word\\"/<b>',  # JSON
        'p@ss "word"/<b>',  # spaces collapsed, as in a page's title
    ]:
        assert scrubbed(f"you sent {echo}!", [secret]) == f"you sent {HIDDEN}!"


class Holder:
    """Something that holds secrets, as a client does."""


@GENERATED
@given(
    secret=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=4, max_size=30),
    cut=st.integers(0, 600),
)
def test_shown_scrubs_before_it_cuts_so_no_half_secret_is_left(secret, cut):
    holder = Holder()
    hide(secret, holder)
    try:
        result = shown("x" * cut + secret + "y" * 600, 500)
        assert secret[: max(2, len(secret) // 2)] not in result
    finally:
        forget(holder)


def test_an_error_built_anywhere_hides_the_secrets_of_an_open_client():
    client = AlyxClient("http://127.0.0.1:9", username="alice", password="s3cret-pw-42")
    client.token = "tok-0123456789abcdef"
    error = AlyxError(
        "server said s3cret-pw-42 and tok-0123456789abcdef",
        url="http://x/?p=s3cret-pw-42",
        detail="s3cret-pw-42",
    )
    for text in (str(error), repr(error), error.url, error.detail):
        assert "s3cret-pw-42" not in text and "tok-0123456789abcdef" not in text
    client.close()
    assert "s3cret" in str(AlyxError("s3cret-pw-42"))  # closed: no longer its secret


def test_a_dropped_client_is_forgotten():
    client = AlyxClient("http://127.0.0.1:9", token="dropped-token-0123456789")
    del client
    gc.collect()
    assert "dropped-token-0123456789" in str(AlyxError("dropped-token-0123456789"))


def test_every_message_is_bounded_whoever_builds_it():
    assert len(str(AlyxError("z" * 100_000))) <= 2000
    assert len(AlyxError("m", detail="d" * 100_000).detail) <= 600
