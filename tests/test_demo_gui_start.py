"""A demo GUI that cannot start is told apart from one that ran, with what to install.

Qt aborts when its xcb platform plugin cannot load (libraries missing, or no X server);
the demo must say so and name the Debian/Ubuntu packages, never print "Try next".
"""

from __future__ import annotations

import doctest
import subprocess
import sys

import pytest
import qt_platform

#: Known library -> package pairs of Debian 12 and Ubuntu 22.04 for Qt 5.15's xcb plugin.
KNOWN = {
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libdbus-1.so.3": "libdbus-1-3",
    "libfontconfig.so.1": "libfontconfig1",
    "libpng16.so.16": "libpng16-16",
    "libglib-2.0.so.0": "libglib2.0-0",
}

QT_APP = "from AnyQt.QtWidgets import QApplication; QApplication([])"


def test_the_examples_of_the_module_print_what_they_say():
    assert doctest.testmod(qt_platform).failed == 0


@pytest.mark.parametrize("library", sorted(KNOWN))
def test_a_library_is_named_by_its_real_package(library):
    assert qt_platform.package_of(library) == KNOWN[library]


def test_the_advice_without_a_named_library_lists_every_package_of_the_plugin():
    advice = qt_platform.install_advice([])
    assert all(package in advice for package in qt_platform.XCB_PACKAGES)


def test_a_gui_that_ran_or_failed_otherwise_is_not_blamed_on_qt():
    assert qt_platform.why_not_started(0, 'Could not load the Qt platform plugin "xcb"', []) is None
    assert qt_platform.why_not_started(1, "Traceback: KeyError", []) is None


def test_a_real_qt_that_cannot_open_a_window_is_told_apart(tmp_path):
    """Qt itself, told to use xcb on a display that is not there: it aborts."""
    env = {"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":77", "QT_API": "pyqt5", "HOME": str(tmp_path)}
    child = subprocess.run(
        [sys.executable, "-c", QT_APP], env=env, capture_output=True, text=True, timeout=120
    )
    assert child.returncode != 0
    message = qt_platform.why_not_started(child.returncode, child.stderr)
    assert message is not None and message.startswith("PyBpod's window could not open")
    missing = qt_platform.missing_libraries()
    if missing:  # this machine lacks some: they are named, with their packages
        assert all(qt_platform.package_of(library) in message for library in missing)
    else:
        assert "could not connect to the display :77" in message


def test_the_demo_reports_a_gui_that_did_not_start_instead_of_going_on(monkeypatch, capsys):
    import demo

    monkeypatch.setattr(qt_platform, "xcb_problem", lambda: None)  # as if the libraries were there
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setenv("DISPLAY", ":77")
    problem = demo.open_gui("alice", rig=True)
    assert problem is not None and problem.startswith("PyBpod's window could not open")
    assert "Could not load the Qt platform plugin" in capsys.readouterr().err  # Qt's own words
