"""What the command line says when the client cannot reach a server: only the project's words.

Against a refused port (nothing to fake: a port where nothing listens) and the real
Alyx (``alyx_server``), typed without its ``http://``.
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/ is not a package

from fault_server import Answer, refused_port, running_fault_server

from pybpod_alyx_module.cli import exit_codes
from pybpod_alyx_module.cli.main import main


@pytest.fixture(autouse=True)
def private_env(tmp_path, monkeypatch):
    """A private HOME and folder, no terminal, a password that is never needed."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("ALYX_PASSWORD", "not-needed-here")
    monkeypatch.chdir(tmp_path)


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().err


@pytest.mark.fault
@pytest.mark.parametrize("verbose", [False, True])
def test_an_unreachable_server_logs_no_urllib3_retry_lines_unless_verbose(capsys, caplog, verbose):
    """Without -v the user sees one sentence, not urllib3's ``Retrying (BoundedRetry(…))``
    (the records are checked where logging delivers them: pytest holds the handlers).
    A connection reset is retried (a refused one is not: see the next test)."""
    with running_fault_server() as stub:
        for root in ("", "/api"):
            stub.script("GET", f"{root}/auth-token", Answer.reset())
        args = ["subjects", "--address", stub.url, "--username", "alice"]
        code, err = run(capsys, *args, *(["-v"] if verbose else []))
    assert code == exit_codes.UNREACHABLE
    assert f"Could not reach the Alyx server at {stub.url}" in err
    retrying = [r for r in caplog.records if r.name.startswith("urllib3")]
    assert bool(retrying) is verbose
    assert all("Retrying" in r.getMessage() for r in retrying)
    assert [line for line in err.splitlines() if "pybpod-alyx: " not in line] == []


@pytest.mark.fault
def test_a_refused_port_says_at_once_that_nothing_listens_there_and_what_to_check(capsys):
    """A port where nothing listens (server down, wrong port): said within a second, with
    host and port and what to do, not after seconds of retries."""
    with refused_port() as port:
        start = time.monotonic()
        code, err = run(
            capsys, "subjects", "--address", f"http://127.0.0.1:{port}", "--username", "alice"
        )
        took = time.monotonic() - start
    assert code == exit_codes.UNREACHABLE
    assert f"nothing listens at 127.0.0.1:{port}" in err
    assert "Is the Alyx server running, and is the port right?" in err
    assert took < 1.5, f"took {took:.1f} s"


def test_an_address_without_scheme_on_the_real_http_alyx_suggests_http(capsys, alyx_server):
    """``127.0.0.1:PORT`` is tried over https; the plain-http Alyx never completes the TLS
    handshake: the message names what was tried and suggests http://, after the connect
    timeout (5 s by default), not as the 60 s read timeout."""
    typed = alyx_server.base_url.removeprefix("http://")
    start = time.monotonic()
    code, err = run(capsys, "subjects", "--address", typed, "--username", "alice")
    took = time.monotonic() - start
    assert code == exit_codes.UNREACHABLE
    assert f"https://{typed}" in err and "https was assumed" in err
    assert f"type http://{typed}" in err
    assert "60 s" not in err
    assert took < 60, f"took {took:.1f} s: the read timeout, not the connect timeout"
