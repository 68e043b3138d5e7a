"""Packaging for pybpod-gui-plugin-alyx.

The distribution keeps the 1.x name: PyBpod 1.8.2 itself depends on
``pybpod-gui-plugin-alyx``, so version 2 must replace 1.1.2 on upgrade.

The hard requirements are only what the REST client and the headless sync need.
The PyBpod GUI packages are not listed: on Python >= 3.8 pip follows them to an
OpenCV pin that has no wheel, so they are installed with ``--no-deps`` as the
README shows (``scripts/bootstrap`` does it for developers).
"""

import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(
    r'^__version__ = "([^"]+)"', (HERE / "pybpod_alyx_module" / "__init__.py").read_text(), re.M
).group(1)

setup(
    name="pybpod-gui-plugin-alyx",
    version=VERSION,
    description="PyBpod plugin and command line to sync subjects with an Alyx database",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="MIT",
    packages=find_packages(include=["pybpod_alyx_module", "pybpod_alyx_module.*"]),
    python_requires=">=3.9",
    install_requires=[
        "requests>=2.25",
        "urllib3>=1.26",
        "confapp>=1.1.11",
        "filelock>=3.13",
        # Windows has no IANA zone files: ALYX_PLUGIN_*_TIME_ZONE names need this package.
        'tzdata; sys_platform == "win32"',
    ],
    entry_points={"console_scripts": ["pybpod-alyx = pybpod_alyx_module.cli.main:main"]},
    extras_require={
        "sync": ["pybpod-gui-api>=1.8.2"],
        "keyring": ["keyring>=23"],
    },
    classifiers=[
        "License :: OSI Approved :: MIT License",
        "Programming Language :: Python :: 3",
        "Intended Audience :: Science/Research",
    ],
)
