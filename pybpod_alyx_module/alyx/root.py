"""Where the REST API lives under the address a user typed.

Each candidate root (:func:`~.address.candidate_roots`) is asked for ``auth-token`` with a
GET, without credentials: an Alyx answers "method not allowed" (405) there, any other
site 404.

An ``https://`` address whose server does not speak TLS (a plain-HTTP Alyx, as alyx-local
runs) fails in the TLS handshake: a timeout or a protocol error that says nothing of the
cause. Then, and only to say so, the same roots are asked once over plain HTTP, still
without credentials: if an Alyx answers there, the error says that it looks like a
plain-HTTP server and to type ``http://``. The client never switches by itself: the
password would then travel unencrypted.
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
        The server could not be reached (saying so when an Alyx answers plain HTTP there).
    """
    tried = []
    for root in candidate_roots(address):
        response = _probe(exchange, address, scheme_typed, root + "/auth-token")
        if _is_alyx(response):
            return root
        if response.status_code >= 500:
            raise_for_status(response, exchange.policy)
        tried.append(f"{root}/auth-token (HTTP {response.status_code})")
    raise errors.NotFoundError(
        f"No Alyx server found at {address}: tried {', '.join(tried)}", url=address
    )


def _is_alyx(response: requests.Response) -> bool:
    return response.status_code == 405 or is_json(response)


def _probe(exchange: Exchange, address: str, scheme_typed: bool, url: str) -> requests.Response:
    """GET ``url`` (no credentials) to find the root.

    Without a typed scheme https is assumed; a plain-http server then never completes the
    TLS handshake. The probe is given the connect timeout only, and its failure says what
    was tried and suggests ``http://``.
    """
    seconds = exchange.timeout[0]
    try:
        if scheme_typed:
            return exchange.send("GET", url)
        return exchange.send("GET", url, deadline=seconds)
    except errors.NothingListensError:
        raise  # no scheme would help: nothing listens there
    except errors.ServerUnreachableError as exc:
        if not address.startswith("https://"):
            raise
        plain = "http://" + address.split("://", 1)[1]
        speaks_plain = plain_alyx_answers(exchange, plain)
        if scheme_typed and not speaks_plain:
            raise
        timed_out = isinstance(exc, errors.ServerTimeoutError)
        got = f"no answer within {seconds:g} s" if timed_out and not scheme_typed else str(exc)
        unencrypted = "(the password then travels unencrypted: on a trusted network only)"
        if scheme_typed:
            got = "no answer in time" if timed_out else "no TLS connection"
            message = (
                f"No Alyx answered over https at {address} (GET {url}: {got}), but one "
                f"answers plain HTTP at {plain}: it looks like a plain-HTTP server. If it is "
                f"yours, type {plain} {unencrypted}."
            )
        else:
            found = (
                "An Alyx answers plain HTTP there"
                if speaks_plain
                else ("If the server speaks plain HTTP")
            )
            message = (
                f"No Alyx answered over https at {address}: no scheme was typed, so "
                f"https was assumed, and GET {url} got {got}. {found}: type {plain} "
                f"{unencrypted}."
            )
        raise type(exc)(message, url=url) from None


def plain_alyx_answers(exchange: Exchange, plain: str) -> bool:
    """True if an Alyx answers, without credentials, at a root of the ``http://`` address.

    Only to tell the user why https failed: nothing else is ever sent there. Each try has
    the connect timeout only; any failure (refused, a redirect, a timeout) is a no.
    """
    for root in candidate_roots(plain):
        try:
            response = exchange.send("GET", root + "/auth-token", deadline=exchange.timeout[0])
        except errors.AlyxError:
            return False
        if _is_alyx(response):
            return True
    return False
