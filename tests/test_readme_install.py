"""The README's "Installing for use with PyBpod" steps, run as written in a fresh venv.

The steps are read from the README itself (every indented ``pip install`` line of that
section), so what is tested is what a rig operator follows. They run in a clone of this
repository's committed tree, as the README says, in a new venv that sees nothing of the
test venv. The result must be this version (not the dead 1.1.2 on the package index),
with its command line and the plugin importable inside PyBpod's packages.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from pybpod_alyx_module import __version__

REPO = Path(__file__).resolve().parent.parent
SECTION = "## Installing for use with PyBpod"


def install_steps() -> list[str]:
    """The ``pip install …`` lines of the README's install section, comments cut off."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return [
        line.split("#", 1)[0].strip()
        for line in section.splitlines()
        if re.match(r"^ {4}pip install ", line)
    ]


def test_the_readme_names_its_install_steps():
    steps = install_steps()
    assert steps, f"no indented 'pip install' line under {SECTION!r}"
    assert steps[-1] == "pip install --no-deps .", "the last step installs this clone"
    assert not any(step.endswith("pybpod-gui-plugin-alyx") for step in steps)  # 1.1.2


@pytest.mark.timeout(900)
def test_the_readme_install_steps_give_this_version_in_a_fresh_venv(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", str(REPO), str(clone)], check=True, capture_output=True, text=True
    )
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    environment = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "VIRTUAL_ENV": str(env_dir),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        # pip would byte-compile the ~5,000 modules of numpy, pandas, matplotlib... (seconds
        # of CPU); the imports below compile what they use, and check that it works.
        "PIP_NO_COMPILE": "1",
    }
    environment.pop("PYTHONPATH", None)
    for step in install_steps():
        done = subprocess.run(
            step, shell=True, cwd=clone, env=environment, capture_output=True, text=True
        )
        assert done.returncode == 0, (
            f"{step!r} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )

    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    shown = subprocess.run(
        [str(python), "-c", "import pybpod_alyx_module, pybpodgui_api; "
         "print(pybpod_alyx_module.__version__, pybpod_alyx_module.__file__)"],
        cwd=tmp_path, env=environment, capture_output=True, text=True,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    version, where = shown.stdout.split()
    assert version == __version__ and not version.startswith("1.")
    assert Path(where).is_relative_to(env_dir), "installed into the venv, not run from the clone"
    helped = subprocess.run(
        [str(bin_dir / "pybpod-alyx"), "--help"], env=environment, capture_output=True, text=True
    )
    assert helped.returncode == 0 and "Traceback" not in helped.stderr, helped.stderr
    assert "sync" in helped.stdout and sys.executable != str(python)
