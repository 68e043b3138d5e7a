"""What a user may type as an Alyx address, and where the client then looks for the API."""

from __future__ import annotations

import pytest

from pybpod_alyx_module.alyx import AlyxError
from pybpod_alyx_module.alyx.address import candidate_roots, normalize_address


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("https://alyx.example.org", "https://alyx.example.org"),
        (" https://alyx.example.org/ ", "https://alyx.example.org"),
        ("https://alyx.example.org///", "https://alyx.example.org"),
        ("alyx.example.org", "https://alyx.example.org"),
        ("localhost:8000/api/", "https://localhost:8000/api"),
        ("http://localhost:8000/api", "http://localhost:8000/api"),
        ("HTTP://127.0.0.1:8000/", "http://127.0.0.1:8000"),
        ("https://lab.example.org/alyx/", "https://lab.example.org/alyx"),
    ],
)
def test_normalize_address_strips_spaces_and_slashes_and_defaults_to_https(typed, normalized):
    """Copy-pasted addresses come with spaces and slashes; a bare host name means https."""
    assert normalize_address(typed) == normalized


@pytest.mark.parametrize("typed", ["", "   ", None])
def test_normalize_address_refuses_an_empty_address(typed):
    """An empty settings field must say "give an address", not fail on ``https://``."""
    with pytest.raises(AlyxError, match="No Alyx address given"):
        normalize_address(typed)


@pytest.mark.parametrize("typed", ["ftp://alyx.example.org", "file:///etc/passwd", "https://"])
def test_normalize_address_refuses_what_is_not_a_web_address(typed):
    """Only http and https with a host can be an Alyx server; the message quotes the input."""
    with pytest.raises(AlyxError, match="is not a web address") as caught:
        normalize_address(typed)
    assert typed in str(caught.value)


@pytest.mark.parametrize(
    "typed",
    [
        "https://alyx.example.org/?format=json",
        "https://alyx.example.org/api?page=2",
        "alyx.example.org/#subjects",
    ],
)
def test_normalize_address_refuses_query_strings_and_fragments(typed):
    """A browser URL pasted with ``?`` or ``#`` would be glued to every endpoint path."""
    with pytest.raises(AlyxError, match="without '\\?' or '#'"):
        normalize_address(typed)


def test_normalize_address_refuses_credentials_in_the_address():
    """``https://alice:secret@host`` would put the password in every message naming the address."""
    with pytest.raises(AlyxError) as caught:
        normalize_address("https://alice:secret@alyx.example.org")
    assert "secret" not in str(caught.value)


@pytest.mark.parametrize(
    ("address", "roots"),
    [
        ("https://alyx.example.org", ["https://alyx.example.org", "https://alyx.example.org/api"]),
        ("http://localhost:8000/api", ["http://localhost:8000/api", "http://localhost:8000"]),
        ("https://lab.org/alyx", ["https://lab.org/alyx", "https://lab.org/alyx/api"]),
        ("https://lab.org/alyx/api", ["https://lab.org/alyx/api", "https://lab.org/alyx"]),
        ("https://lab.org/myapi", ["https://lab.org/myapi", "https://lab.org/myapi/api"]),
    ],
)
def test_candidate_roots_try_the_address_first_then_with_or_without_api(address, roots):
    """What the user typed is tried first: cortex-lab serves at the root, alyx-local under /api."""
    assert candidate_roots(address) == roots
