"""A server's words, made safe to show, log or store: bounded in length, secrets scrubbed.

Every text that comes from a server (an error's detail, a body, a header) may be huge (a
50 MB error page), and a server may echo back what it was sent (a login error repeating
the password). Whatever is shown to a person, written to a log or stored in the outbox
goes through :func:`bounded` first, and through :func:`scrubbed` wherever a secret may
have been sent with the request.

Each client tells this module the password and the tokens it holds (:func:`hide`), so
that every :class:`~pybpod_alyx_module.alyx.errors.AlyxError`, wherever it is built, is
scrubbed of them (:func:`shown`): one place, not one call per message. They are
remembered in memory only, until the client is closed (:func:`forget`) or dropped.

Examples
--------
>>> bounded("x" * 10, limit=6)
'xxx… (10 characters, cut)'
>>> scrubbed("wrong password hunter2 for alice", ["hunter2"])
'wrong password [hidden] for alice'
>>> scrubbed("login?password=p%40ss+word", ["p@ss word"])
'login?password=[hidden]'
"""

from __future__ import annotations

import html
import json
import threading
import weakref
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

#: The longest text kept of a server's words (characters).
WORDS_LIMIT = 500
HIDDEN = "[hidden]"
#: Markers tried in turn: a secret may be part of one (a password such as ``hidden``).
_MARKERS = (HIDDEN, "***", "#")
#: What is left of a text from which no marker could take a secret out (never seen in use).
_WITHHELD = "(withheld: it held a secret)"

#: Each live holder (a client) -> the secrets it has held.
_held: weakref.WeakKeyDictionary[object, set[str]] = weakref.WeakKeyDictionary()
_held_lock = threading.Lock()


def bounded(text: object, limit: int = WORDS_LIMIT) -> str:
    """``text`` as a string of at most about ``limit`` characters, saying when it was cut."""
    words = text if isinstance(text, str) else str(text)
    if len(words) <= limit:
        return words
    keep = max(0, limit // 2)
    return f"{words[:keep]}… ({len(words):,} characters, cut)"


def scrubbed(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every non-empty secret in ``secrets`` replaced by ``[hidden]``.

    A secret is also found as a server may have echoed it: percent-encoded (a query or a
    form), JSON- or HTML-escaped, or with its runs of spaces collapsed (an HTML title).
    Overlapping occurrences are hidden as one; the result never contains a secret, even
    one that is part of the marker or straddles it.
    """
    forms = {form for secret in secrets if secret for form in _forms(secret)}
    if not forms or not any(form in text for form in forms):
        return text
    for marker in _MARKERS:
        result = _replace_all(text, forms, marker)
        if not any(form in result for form in forms):
            return result
    return _WITHHELD if not any(form in _WITHHELD for form in forms) else ""


def hide(secret: str | None, holder: object) -> None:
    """Scrub ``secret`` (a password, a token) from every error while ``holder`` lives."""
    if secret:
        with _held_lock:
            _held.setdefault(holder, set()).add(secret)


def forget(holder: object) -> None:
    """Stop scrubbing the secrets of ``holder`` (a client that was closed)."""
    with _held_lock:
        _held.pop(holder, None)


def shown(text: object, limit: int = WORDS_LIMIT) -> str:
    """``text`` scrubbed of every secret given to :func:`hide`, then :func:`bounded`.

    Scrubbing comes first, so that a cut never leaves half a secret behind.
    """
    with _held_lock:
        secrets = [secret for held in list(_held.values()) for secret in held]
    words = text if isinstance(text, str) else str(text)
    return bounded(scrubbed(words, secrets), limit)


def _forms(secret: str) -> set[str]:
    """The spellings of ``secret`` a server may send back."""
    forms = {
        secret,
        quote(secret),
        quote(secret, safe=""),
        quote_plus(secret),
        quote_plus(secret, safe=""),
        html.escape(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }
    collapsed = " ".join(secret.split())
    if collapsed:
        forms.add(collapsed)
    return {form for form in forms if form}


def _replace_all(text: str, forms: set[str], marker: str) -> str:
    """``text`` with every (possibly overlapping) occurrence of ``forms`` merged into ``marker``."""
    spans = []
    for form in forms:
        start = text.find(form)
        while start >= 0:
            spans.append((start, start + len(form)))
            start = text.find(form, start + 1)
    spans.sort()
    pieces, position = [], 0
    for start, end in spans:
        if start > position:
            pieces.append(text[position:start])
            pieces.append(marker)
        elif not pieces or pieces[-1] != marker:
            pieces.append(marker)
        position = max(position, end)
    pieces.append(text[position:])
    return "".join(pieces)
