"""The rows of a PyBpod session file, read from any bytes in bounded memory, never evaluated.

pybpodapi writes ``;``-separated rows quoted with ``|`` (a ``|`` inside a quoted field is
doubled); a quoted field may hold line breaks (a task's narrative), so a row may span
lines. A file on a rig's disk may also be cut short, hold binary garbage, NUL bytes,
text in another encoding, or one endless line; and it may be 400 MB of ``STATE`` and
``EVENT`` rows, of which registration needs a few dozen.

So the file is read as bytes, one line at a time, each line at most :data:`LINE_CAP`
bytes (the rest of a longer line is skipped, never held), a row at most
:data:`RECORD_CAP` bytes. Rows are decoded only when their kind is wanted, as UTF-8 with
a replacement character for any byte that is not, and NUL characters replaced too.
The two rows PyBpod writes as literals (a subject, ``"['M1', '<uuid4>']"``; the creator,
``'["alice", "<uuid4>", "ALYX"]'``) are matched by pattern and their strings unescaped
here: PyBpod's own loader ``eval``-s them, which lets a session file run code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Container, Iterator
from typing import BinaryIO, NamedTuple

DELIMITER = ";"
QUOTE = "|"
#: The longest line kept (bytes); PyBpod's own rows are ~100 bytes.
LINE_CAP = 64 * 1024
#: The longest row kept (bytes), over all the lines of a quoted field.
RECORD_CAP = 64 * 1024
_QUOTE_BYTE = QUOTE.encode()


class Row(NamedTuple):
    """One row as found: where it starts, its kind (first field), its bytes, whether whole.

    ``complete`` is False for a row longer than :data:`RECORD_CAP` (or a line longer
    than :data:`LINE_CAP`): ``raw`` then holds only its beginning.
    """

    line: int
    kind: bytes
    raw: bytes
    complete: bool

    def text(self) -> str:
        """The row as text: UTF-8, any other byte replaced; NULs replaced; no line end."""
        return self.raw.decode("utf-8", "replace").replace("\0", "\ufffd")

    def fields(self) -> list[str]:
        """The row's fields (see :func:`split_fields`)."""
        return split_fields(self.text())


def rows(stream: BinaryIO, kinds: Container[bytes]) -> Iterator[Row]:
    """The rows of a binary ``stream`` whose kind is in ``kinds``, in order, each bounded.

    A row continues on the next line while it has an odd number of quote characters (a
    quoted field still open), up to :data:`RECORD_CAP` bytes: a stray ``|`` in garbage
    costs at most that much of what follows it. Rows of other kinds (most of a file:
    states and events) are passed over without building anything.
    """
    lines = _lines(stream)
    number = 0
    for line, quotes, whole in lines:
        number += 1
        first, parts, size = number, None, len(line)
        while whole and quotes % 2:
            following = next(lines, None)
            if following is None:
                break
            number += 1
            more, more_quotes, whole = following
            if parts is None:
                parts = [line]
            parts.append(more)
            quotes += more_quotes
            size += len(more)
            if size > RECORD_CAP:
                whole = False
        kind = line.partition(b";")[0]
        if kind not in kinds:
            continue
        raw = line if parts is None else b"".join(parts)
        if not whole:
            raw = raw[:RECORD_CAP]
        yield Row(first, kind, raw.rstrip(b"\r\n"), whole)


def _lines(stream: BinaryIO) -> Iterator[tuple[bytes, int, bool]]:
    """``(line, its count of quote characters, whole)``; a line over the cap is cut short.

    A line cut short ends its row, whatever its quotes: its count is not needed (0).
    """
    while True:
        line = stream.readline(LINE_CAP)
        if not line:
            return
        if line.endswith(b"\n") or len(line) < LINE_CAP:
            yield line, line.count(_QUOTE_BYTE), True
            continue
        rest = line
        while rest and not rest.endswith(b"\n"):  # skip the rest, a bounded piece at a time
            rest = stream.readline(LINE_CAP)
        yield line, 0, False


def split_fields(text: str) -> list[str]:
    """The fields of one row in pybpodapi's dialect (``;``-separated, quoted with ``|``).

    As lenient as Python's ``csv`` reader: an unclosed quote runs to the end, text after
    a closing quote is kept.

    >>> split_fields("VAL;t;;;alyx_narrative;|a;b||c|")
    ['VAL', 't', '', '', 'alyx_narrative', 'a;b|c']
    """
    found: list[str] = []
    start, end = 0, len(text)
    while True:
        field = ""
        if text.startswith(QUOTE, start):
            start += 1
            while True:
                close = text.find(QUOTE, start)
                if close < 0:
                    return [*found, field + text[start:]]
                field += text[start:close]
                if text.startswith(QUOTE, close + 1):  # a doubled quote stands for one
                    field += QUOTE
                    start = close + 2
                    continue
                start = close + 1
                break
        stop = text.find(DELIMITER, start)
        if stop < 0:
            return [*found, field + text[start:end]]
        found.append(field + text[start:stop])
        start = stop + 1


# -- the two literal rows ---------------------------------------------------------------------

_PYTHON_STRING = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""
_JSON_STRING = r"\"(?:[^\"\\]|\\.)*\""
_SUBJECT = re.compile(rf"\s*\[\s*({_PYTHON_STRING})\s*,\s*({_PYTHON_STRING})\s*\]\s*", re.S)
_CREATOR = re.compile(rf"\s*\[\s*({_JSON_STRING})\s*,\s*({_JSON_STRING})\s*,\s*({_JSON_STRING})\s*\]\s*", re.S)  # fmt: skip
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", re.S)
_ESCAPED = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", "'": "'", '"': '"'}


def subject_pair(text: str) -> tuple[str, str] | None:
    """``(name, uuid4)`` from ``"['M1', '<uuid4>']"`` (``str()`` of a list of two strings).

    ``None`` for anything else. Nothing is evaluated: the pattern admits two string
    literals and nothing more, and their escapes (those ``repr`` writes) are decoded here.

    >>> subject_pair("['M\\\\xe9', \\"o'k\\"]")
    ('Mé', "o'k")
    >>> subject_pair("__import__('os').system('touch x')") is None
    True
    """
    match = _SUBJECT.fullmatch(text)
    if match is None:
        return None
    return _unescape(match[1][1:-1]), _unescape(match[2][1:-1])


def creator_triple(text: str) -> tuple[str, str, str] | None:
    """``(name, uuid4, connection)`` from ``'["alice", "<uuid4>", "ALYX"]'`` (JSON), or ``None``."""
    match = _CREATOR.fullmatch(text)
    if match is None:
        return None
    try:
        name, uuid4, connection = (json.loads(match[i]) for i in (1, 2, 3))
    except ValueError:
        return None
    return name, uuid4, connection


def _unescape(body: str) -> str:
    return _ESCAPE.sub(_escaped, body)


def _escaped(match: re.Match) -> str:
    code = match[1]
    if len(code) > 1:
        try:
            return chr(int(code[1:], 16))
        except ValueError:  # past U+10FFFF
            return match[0]
    return _ESCAPED.get(code, match[0])
