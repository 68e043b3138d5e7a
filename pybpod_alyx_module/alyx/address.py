"""What a user types as an Alyx address, and where the REST API may live under it.

Users write ``https://alyx.example.org/``, ``alyx.example.org``,
``http://localhost:8000/api`` … The cortex-lab Alyx serves its API at the host
root; alyx-local serves it under ``/api``. :func:`candidate_roots` lists where
to look, most likely first; the client probes them (see ``AlyxClient.api_root``).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from .errors import AlyxError


def normalize_address(address: str) -> str:
    """The address without spaces or trailing slashes, with a scheme (``https`` if none).

    Examples
    --------
    >>> normalize_address(" https://alyx.example.org/ ")
    'https://alyx.example.org'
    >>> normalize_address("localhost:8000/api/")
    'https://localhost:8000/api'
    """
    text = (address or "").strip()
    if not text:
        raise AlyxError(
            "No Alyx address given: type the server's address, e.g. https://alyx.example.org"
        )
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.username or parts.password:
        raise AlyxError(
            "The Alyx address must not contain a user name or password: "
            "give them in the User and Password fields"
        )
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise AlyxError(f"'{address}' is not a web address (expected http://… or https://…)")
    if parts.query or parts.fragment:
        raise AlyxError(
            f"'{address}' should be the server's address only, without '?' or '#' parts"
        )
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def has_scheme(address: str | None) -> bool:
    """True if the user typed the scheme (``http://`` or ``https://``) themselves.

    Examples
    --------
    >>> has_scheme("127.0.0.1:8000"), has_scheme(" http://127.0.0.1:8000")
    (False, True)
    """
    return "://" in (address or "")


def candidate_roots(address: str) -> list[str]:
    """Possible API roots for a normalized address, most likely first.

    Examples
    --------
    >>> candidate_roots("https://alyx.example.org")
    ['https://alyx.example.org', 'https://alyx.example.org/api']
    >>> candidate_roots("http://localhost:8000/api")
    ['http://localhost:8000/api', 'http://localhost:8000']
    """
    if address.endswith("/api"):
        return [address, address[: -len("/api")]]
    return [address, address + "/api"]


def same_origin(link: str, reference: str) -> str:
    """``link`` moved onto the scheme and host of ``reference`` (path and query kept).

    Alyx writes absolute URLs in its answers (``next`` pages, each subject's
    ``url``). Behind a TLS proxy Django often writes them ``http://`` for an
    ``https://`` site; and a token must never follow a link to another host.

    Examples
    --------
    >>> same_origin("http://alyx.example.org/subjects?offset=250", "https://alyx.example.org/api")
    'https://alyx.example.org/subjects?offset=250'
    """
    ref = urlsplit(reference)
    parts = urlsplit(link)
    return urlunsplit((ref.scheme, ref.netloc, parts.path, parts.query, ""))
