"""Where the REST API lives under the address a user typed.

Each candidate root (:func:`~.address.candidate_roots`) is asked for ``auth-token`` with a
GET, without credentials: an Alyx answers "method not allowed" (405) there, any other
site 404.
"""

from __future__ import annotations

import requests

from . import errors
from .address import candidate_roots
from .exchange import Exchange
from .responses import is_json, raise_for_status


def find_api_root(exchange: Exchange, address: str, scheme_typed: bool) -> str:
    """The URL under which the REST endpoints of ``address`` live.

    Raises
    ------
    NotFoundError
        No candidate root answers as an Alyx does.
    ServerUnreachableError
        The server could not be reached (with a hint when https was only assumed).
    """
    tried = []
    for root in candidate_roots(address):
        response = _probe(exchange, address, scheme_typed, root + "/auth-token")
        if response.status_code == 405 or is_json(response):
            return root
        if response.status_code >= 500:
            raise_for_status(response, exchange.policy)
        tried.append(f"{root}/auth-token (HTTP {response.status_code})")
    raise errors.NotFoundError(
        f"No Alyx server found at {address}: tried {', '.join(tried)}", url=address
    )


def _probe(exchange: Exchange, address: str, scheme_typed: bool, url: str) -> requests.Response:
    """GET ``url`` (no credentials) to find the root.

    Without a typed scheme https is assumed; a plain-http server then never completes the
    TLS handshake. The probe is given the connect timeout only, and its failure says what
    was tried and suggests ``http://``. The client never switches to http by itself: the
    password would then travel unencrypted.
    """
    if scheme_typed:
        return exchange.send("GET", url)
    seconds = exchange.timeout[0]
    try:
        return exchange.send("GET", url, deadline=seconds)
    except errors.ServerUnreachableError as exc:
        plain = "http://" + address.split("://", 1)[1]
        timed_out = isinstance(exc, errors.ServerTimeoutError)
        reason = f"no answer within {seconds:g} s" if timed_out else str(exc)
        raise type(exc)(
            f"No Alyx answered over https at {address}: no scheme was typed, so "
            f"https was assumed, and GET {url} got {reason}. If the server speaks plain "
            f"HTTP, type {plain} (the password then travels unencrypted: on a trusted "
            "network only).",
            url=url,
        ) from None
