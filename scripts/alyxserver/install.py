"""alyx-local's own venv: Python 3.12 and pinned dependencies, apart from PyBpod's.

alyx-local 3.1.8 requires Python >=3.12,<3.13 and, unpinned, pulls Django 6 (which fails a
system check), so it gets a venv of its own built from ``constraints.txt``. A marker file
holding a hash of the constraints makes a second ``install`` instant, and a changed pin
rebuilds the venv. Every home shares the one venv (930 MB, 70-85 s to build), so a lock
beside it lets one process build it while the others wait.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from alyxserver.layout import (
    ALYX_LOCAL_VERSION,
    CONSTRAINTS_FILE,
    Layout,
    file_lock,
    files_hash,
    log,
)


class InstallError(RuntimeError):
    """The server's venv cannot be built; the message says what to do."""


def install_hash() -> str:
    return files_hash([CONSTRAINTS_FILE], extra=f"alyx-local=={ALYX_LOCAL_VERSION} gunicorn")


def is_installed(layout: Layout) -> bool:
    marker = layout.install_marker
    return (
        marker.is_file()
        and marker.read_text().strip() == install_hash()
        and layout.venv_bin("alyx").is_file()
        and layout.venv_bin("gunicorn").is_file()
    )


def find_python312() -> str:
    """``ALYX_LOCAL_PYTHON``, else ``python3.12`` on PATH, else pyenv's 3.12."""
    candidates = []
    env = os.environ.get("ALYX_LOCAL_PYTHON")
    if env:
        candidates.append(env)
    on_path = shutil.which("python3.12")
    if on_path:
        candidates.append(on_path)
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += [str(p) for p in sorted(pyenv_root.glob("versions/3.12*/bin/python"))]
    for candidate in candidates:
        if _is_python312(candidate):
            return candidate
    raise InstallError(
        "alyx-local needs Python 3.12 and none was found (tried ALYX_LOCAL_PYTHON, "
        f"python3.12 on PATH, {pyenv_root}/versions/3.12*). Install Python 3.12 "
        "(e.g. `pyenv install 3.12` or `apt-get install python3.12-venv`) or set "
        "ALYX_LOCAL_PYTHON=/path/to/python3.12."
    )


def _is_python312(python: str) -> bool:
    try:
        out = subprocess.run(
            [python, "-c", "import sys, venv; print(sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip() == "(3, 12)"


def install(layout: Layout) -> None:
    """Build (or rebuild) the venv unless the marker says it is already what we want."""
    if is_installed(layout):
        log.debug("venv already installed at %s", layout.venv)
        return
    with file_lock(layout.install_lock):
        if is_installed(layout):  # built by another process while we waited
            return
        _build(layout)


def _build(layout: Layout) -> None:
    python = find_python312()
    log.info("creating alyx-local's venv at %s with %s (about a minute)", layout.venv, python)
    if layout.venv.exists():
        shutil.rmtree(layout.venv)
    _run([python, "-m", "venv", str(layout.venv)])
    _run(
        [
            str(layout.venv_bin("python")),
            "-m",
            "pip",
            "install",
            "--quiet",
            f"alyx-local=={ALYX_LOCAL_VERSION}",
            "gunicorn",
            "--constraint",
            str(CONSTRAINTS_FILE),
        ]
    )
    layout.install_marker.write_text(install_hash() + "\n")
    log.info("alyx-local %s installed", ALYX_LOCAL_VERSION)


def _run(cmd: list[str]) -> None:
    result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        tail = "\n".join(result.stdout.splitlines()[-30:])
        raise InstallError(f"command failed ({result.returncode}): {' '.join(cmd)}\n{tail}")
