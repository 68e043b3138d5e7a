"""The command line's front door: where the server and user come from, one error root mapped
to exit codes in one table, and a missing PyBpod said in one line. No server is needed here.
"""

from __future__ import annotations

import importlib
import inspect
import io
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pybpod_projects import new_project

import pybpod_alyx_module
from pybpod_alyx_module.alyx import AlyxError, BadCredentialsError, ServerTimeoutError
from pybpod_alyx_module.cli import exit_codes
from pybpod_alyx_module.cli.connecting import MissingConnection
from pybpod_alyx_module.cli.credentials import NoPassword
from pybpod_alyx_module.cli.main import main
from pybpod_alyx_module.errors import PluginError
from pybpod_alyx_module.plugin_settings import SettingsError
from pybpod_alyx_module.register.plausibility import ImplausibleValue
from pybpod_alyx_module.sync.apply import SyncCancelled
from pybpod_alyx_module.sync.errors import ProjectBusy

#: Exceptions that never reach a person: each is turned into one of the roots' errors first.
INTERNAL = {
    "pybpod_alyx_module.settings_rules.Unexpected",  # becomes a SettingsError
    "pybpod_alyx_module.alyx.deadline.DeadlineExceeded",  # an OSError urllib3 must see
}


@pytest.fixture(autouse=True)
def elsewhere(tmp_path, monkeypatch):
    """A folder without user_sett.py, a private HOME, no terminal and no password."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ALYX_PASSWORD", raising=False)
    monkeypatch.chdir(tmp_path)


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


# -- where the server and user come from -----------------------------------------------------


@pytest.mark.parametrize(
    "command", [["subjects"], ["sync", "proj"], ["login"], ["logout"], ["weigh", "p", "M1", "20"]]
)
def test_without_a_server_outside_pybpods_folder_the_message_names_user_settings(
    tmp_path, capsys, command
):
    code, _out, err = run(capsys, *command)
    assert code == exit_codes.USAGE
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "no Alyx server and user name given: pass --address URL and --username NAME" in err
    assert "ALYX_PLUGIN_ADDRESS and ALYX_PLUGIN_USERNAME in the user_settings.py" in err
    assert f"there is no user_settings.py in {tmp_path}" in err
    assert not (tmp_path / "proj").exists()


def test_a_user_settings_without_them_is_named_and_only_the_missing_one_is_asked(tmp_path, capsys):
    (tmp_path / "user_settings.py").write_text("ALYX_PLUGIN_ADDRESS = 'http://127.0.0.1:9'\n")
    code, _out, err = run(capsys, "subjects")
    assert code == exit_codes.USAGE
    assert err == (
        "pybpod-alyx: no Alyx user name given: pass --username NAME, or set "
        f"ALYX_PLUGIN_USERNAME in {tmp_path / 'user_settings.py'}\n"
    )


def test_outbox_and_a_dry_run_need_no_server(tmp_path, capsys):
    new_project(tmp_path / "proj")
    code, out, err = run(capsys, "outbox", tmp_path / "proj")
    assert (code, err) == (exit_codes.OK, "")
    code, out, err = run(capsys, "register", tmp_path / "proj", "--dry-run")
    assert (code, err) == (exit_codes.OK, "")
    assert "dry run" in out
    code, _out, err = run(capsys, "outbox", tmp_path / "proj", "--retry")
    assert code == exit_codes.USAGE and "no Alyx server and user name given" in err


# -- one error root, one table of exit codes ------------------------------------------------


def _package_errors():
    """Every exception class the headless package defines (gui/ and models/ need Qt)."""
    root = Path(pybpod_alyx_module.__file__).parent
    for info in pkgutil.walk_packages([str(root)], "pybpod_alyx_module."):
        if info.name.split(".")[1] in ("gui", "models"):
            continue
        module = importlib.import_module(info.name)
        for _name, kind in inspect.getmembers(module, inspect.isclass):
            if issubclass(kind, BaseException) and kind.__module__ == info.name:
                yield kind


def test_every_error_of_the_plugin_has_a_root():
    rootless = [
        f"{kind.__module__}.{kind.__qualname__}"
        for kind in _package_errors()
        if not issubclass(kind, (PluginError, AlyxError))
        and f"{kind.__module__}.{kind.__qualname__}" not in INTERNAL
        and not kind.__name__.startswith("_")
    ]
    assert rootless == []


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (BadCredentialsError("refused"), exit_codes.BAD_CREDENTIALS),
        (NoPassword("none"), exit_codes.BAD_CREDENTIALS),
        (ServerTimeoutError("slow"), exit_codes.UNREACHABLE),
        (MissingConnection("none"), exit_codes.USAGE),
        (SyncCancelled("Cancelled."), exit_codes.CANCELLED),
        (ProjectBusy("busy"), exit_codes.ERROR),
        (SettingsError(["x"]), exit_codes.ERROR),
        (ImplausibleValue("19400 g"), exit_codes.ERROR),
        (AlyxError("other"), exit_codes.ERROR),
    ],
)
def test_each_error_ends_a_command_with_its_code_as_one_line(capsys, monkeypatch, error, code):
    def fail(args, defaults):
        raise error

    monkeypatch.setattr("pybpod_alyx_module.cli.main._run_subjects", fail)
    got, _out, err = run(capsys, "subjects", "--address", "http://127.0.0.1:9", "--username", "u")
    assert got == code == exit_codes.exit_code_of(error)
    assert err == f"pybpod-alyx: {error}\n"


def test_the_roots_keep_their_old_bases_for_callers_that_catch_them():
    assert issubclass(SettingsError, ValueError) and issubclass(ImplausibleValue, ValueError)


# -- without PyBpod ---------------------------------------------------------------------------

WITHOUT_PYBPOD = """
import sys
for name in ("pybpodgui_api", "pybpodapi", "sca", "pyforms", "pyforms_gui", "pybpodgui_plugin"):
    sys.modules[name] = None  # as if not installed: importing it raises ModuleNotFoundError
from pybpod_alyx_module.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize(
    "command",
    [["--help"], ["sync", "proj", "--address", "http://127.0.0.1:9", "--username", "u"]],
)
def test_without_pybpod_one_line_says_what_to_install(tmp_path, command):
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_PYBPOD, *command],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, cwd=tmp_path,
    )  # fmt: skip
    assert "Traceback" not in done.stderr
    if done.returncode == exit_codes.OK:  # the headless core imported without PyBpod
        assert command == ["--help"] and "usage: pybpod-alyx" in done.stdout
        return
    assert done.returncode == exit_codes.ERROR
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("pybpod-alyx: This needs PyBpod's project models, and the ")
    assert "is not installed: pip install " in done.stderr
    assert not (tmp_path / "proj").exists()
