"""The plugin's own session-file reader: bounded, tolerant, streaming, and never evaluating.

Every hostile file (random bytes, garbage injected into a real file, endless lines, rows
missing, NUL bytes, names that are not UTF-8) reads as a session or as a
``SessionFileError`` naming the file: never another exception, never code run, never
memory in proportion to the file.
"""

from __future__ import annotations

import datetime
import functools
import os
import random
import tempfile
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from register_sessions import write_session

from pybpod_alyx_module.register.session_file import (
    RecordedSession,
    SessionFileError,
    read_session,
)
from pybpod_alyx_module.register.session_rows import LINE_CAP, RECORD_CAP

M1 = ("M1", "11111111-1111-4111-8111-111111111111")
M2 = ("M2", "22222222-2222-4222-8222-222222222222")
T0 = datetime.datetime(2024, 3, 4, 10, 0, 0, 123456)
T1 = datetime.datetime(2024, 3, 4, 10, 45, 0)
VALUES = {"alyx_weight_g": 21.5, "alyx_water_ml": 0.75, "alyx_narrative": "fine;\na | b"}
HOSTILE = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@functools.lru_cache(maxsize=1)
def real_file() -> bytes:
    """A session of M1 and M2 as pybpodapi writes it (its bytes, written once)."""
    with tempfile.TemporaryDirectory() as folder:
        path = write_session(Path(folder), [M1, M2], T0, T1, trials=5, values=VALUES)
        return path.read_bytes()


def read_bytes(data: bytes) -> RecordedSession | SessionFileError:
    """``data`` as a session file on disk, read: the session, or the error it gave."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "20240304-100000" / "20240304-100000.csv"
        path.parent.mkdir()
        path.write_bytes(data)
        try:
            return read_session(path.parent)
        except SessionFileError as error:
            assert str(path) in str(error), "the error names the file"
            return error


def same_session(a: RecordedSession, b: RecordedSession) -> bool:
    keep = ("uuid4", "started", "ended", "subjects", "creator", "setup", "n_trials", "values")
    return all(getattr(a, name) == getattr(b, name) for name in keep)


def test_a_real_file_reads_back_what_pybpodapi_wrote():
    session = read_bytes(real_file())
    assert isinstance(session, RecordedSession)
    assert (session.started, session.ended, session.n_trials) == (T0, T1, 5)
    assert [(s.name, s.uuid4) for s in session.subjects] == [M1, M2]
    assert (session.creator.name, session.creator.connection) == ("alice", "ALYX")
    assert (session.setup, session.board, session.protocol) == ("rig1", "box", "training")
    assert session.values == {
        "alyx_weight_g": "21.5",
        "alyx_water_ml": "0.75",
        "alyx_narrative": "fine;\na | b",
    }


def test_only_the_values_the_plugin_reads_are_kept(tmp_path):
    many = {f"trial_data_{n}": list(range(50)) for n in range(200)}
    path = write_session(tmp_path, [M1], T0, T1, values={**many, "alyx_weight_g:M1": 20.0})
    assert read_session(path).values == {"alyx_weight_g:M1": "20.0"}
    assert read_session(path, values=["trial_data_7"]).values == {
        "trial_data_7": str(list(range(50)))
    }


@HOSTILE
@given(st.binary(max_size=4096))
def test_random_bytes_are_a_session_or_an_error_naming_the_file(data):
    read_bytes(data)


@HOSTILE
@given(st.binary(min_size=1, max_size=600), st.integers(min_value=0), st.booleans())
def test_garbage_anywhere_in_a_real_file_is_a_session_or_an_error_naming_the_file(
    garbage, where, replace
):
    data = real_file()
    at = where % len(data)
    read_bytes(data[:at] + garbage + data[at + (len(garbage) if replace else 0) :])


#: Garbage as a line of its own: no quote, no line break, not a row kind the reader uses.
garbage_lines = st.binary(min_size=1, max_size=300).filter(
    lambda b: b"|" not in b and b"\n" not in b and b"\r" not in b
    and not b.startswith((b"TRIAL", b"INFO", b"VAL", b"__UUID4__"))
)  # fmt: skip


@HOSTILE
@given(st.lists(st.tuples(st.integers(min_value=0), garbage_lines), min_size=1, max_size=8))
def test_garbage_lines_between_the_rows_change_nothing_read(insertions):
    lines = real_file().split(b"\n")
    quotes = [b"\n".join(lines[:n]).count(b"|") for n in range(len(lines))]
    between_rows = [n for n in range(1, len(lines)) if quotes[n] % 2 == 0]  # not in a quote
    for where, garbage in sorted(insertions, reverse=True):
        at = between_rows[where % len(between_rows)]
        lines.insert(at, garbage)
        between_rows = [n + (n >= at) for n in between_rows]
    assert same_session(read_bytes(b"\n".join(lines)), read_bytes(real_file()))


@HOSTILE
@given(st.sets(st.integers(min_value=0, max_value=60), min_size=1, max_size=10))
def test_rows_missing_give_a_session_or_an_error_naming_the_file(missing):
    lines = real_file().split(b"\n")
    read_bytes(b"\n".join(line for n, line in enumerate(lines) if n not in missing))


@HOSTILE
@given(st.lists(st.integers(min_value=0), min_size=1, max_size=20))
def test_nul_bytes_anywhere_are_tolerated(places):
    data = bytearray(real_file())
    for place in places:
        data.insert(place % len(data), 0)
    read_bytes(bytes(data))


names = st.text(st.characters(blacklist_characters="'\"\\\n\r|;"), min_size=1, max_size=20)


@HOSTILE
@given(names, st.sampled_from(["latin-1", "utf-16", "cp1252"]))
def test_names_that_are_not_utf8_are_read_with_replacement_characters(name, encoding):
    try:
        encoded = name.encode(encoding)
    except UnicodeEncodeError:
        encoded = name.encode("utf-8")
    assume(not any(byte in encoded for byte in b"'\"\\|;\n\r"))  # no row syntax in the bytes
    data = real_file().replace(b"'M1'", b"'" + encoded + b"'").replace(b";rig1", b";" + encoded)
    session = read_bytes(data)
    assert isinstance(session, RecordedSession)
    assert session.subjects[0].uuid4 == M1[1]
    assert session.setup == encoded.decode("utf-8", "replace").replace("\0", "\ufffd")


def test_an_endless_line_is_skipped_in_bounded_pieces():
    huge = b"STATE;" + b"x" * (3 * LINE_CAP) + b"\n"
    lines = real_file().split(b"\n")
    session = read_bytes(b"\n".join([*lines[:20], huge, *lines[20:]]))
    assert same_session(session, read_bytes(real_file()))


def test_a_needed_row_too_long_to_hold_is_an_error_naming_it():
    narrative = b"VAL;t;;;alyx_narrative;" + b"n" * (RECORD_CAP + 10) + b"\n"
    error = read_bytes(real_file() + narrative)
    assert isinstance(error, SessionFileError) and "alyx_narrative row is longer" in str(error)


def test_a_stray_quote_costs_at_most_a_bounded_stretch_of_rows():
    lines = real_file().split(b"\n")
    padding = [b"EVENT;t;;;%d;" % n for n in range(RECORD_CAP // 10)]
    session = read_bytes(b"\n".join([*lines[:-2], b"STATE;|open", *padding, *lines[-2:]]))
    assert isinstance(session, RecordedSession) and session.ended == T1


def test_a_subject_row_that_would_run_code_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    attack = f"__import__('pathlib').Path({str(marker)!r}).write_text('x')"
    data = real_file().replace(f"{list(M2)}".encode(), attack.encode())
    error = read_bytes(data)
    assert isinstance(error, SessionFileError) and "unreadable SUBJECT-NAME row" in str(error)
    assert not marker.exists()


@pytest.mark.skipif(os.name == "nt", reason="links need privileges on Windows")
def test_a_link_or_a_fifo_is_refused_not_followed_or_waited_on(tmp_path):
    real = tmp_path / "elsewhere.csv"
    real.write_bytes(real_file())
    link = tmp_path / "linked" / "linked.csv"
    link.parent.mkdir()
    link.symlink_to(real)
    with pytest.raises(SessionFileError, match="is a link"):
        read_session(link.parent)
    fifo = tmp_path / "fifo" / "fifo.csv"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    with pytest.raises(SessionFileError, match="not a plain file"):
        read_session(fifo)


def write_big_session(path: Path, megabytes: int, newlines: bool = True) -> None:
    """A real session's rows with ``megabytes`` of STATE rows (or one endless line) inside."""
    head, tail = real_file().rsplit(b"\nINFO", 1)
    rng = random.Random(20240304)
    with open(path, "wb") as stream:
        stream.write(head + b"\n")
        row = b"STATE;2024-03-04 10:00:01;0.1;0.2;WaitForPoke;%d\n"
        block = b"".join(row % rng.randrange(10**6) for _ in range(10_000)) if newlines else (
            b"x" * 500_000
        )  # fmt: skip
        for _ in range(megabytes * 2**20 // len(block)):
            stream.write(block)
        stream.write(b"\nINFO" + tail)


@pytest.mark.parametrize("newlines", [True, False], ids=["many rows", "one endless line"])
def test_a_50_mb_file_is_read_in_a_few_mb_of_memory(tmp_path, newlines):
    path = tmp_path / "big" / "big.csv"
    path.parent.mkdir()
    write_big_session(path, 50, newlines)
    assert path.stat().st_size > 50 * 10**6
    tracemalloc.start()
    try:
        session = read_session(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert session.ended == T1 and session.n_trials == 5
    assert peak < 2 * 2**20, f"peak {peak / 2**20:.1f} MB"
