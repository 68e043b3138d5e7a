"""One name policy for every filesystem a rig uses: what Windows, macOS and Linux can all hold.

A nickname outside it is refused with the reason and the rest sync; a nickname inside it
can really be written, with every file the sync makes from it, and its paths stay within
Windows' MAX_PATH in a typical project folder.
"""

from __future__ import annotations

import os
import sys
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_sync_plan import record

from pybpod_alyx_module.sync import OverridePolicy, apply_plan, plan_subjects, save_sync
from pybpod_alyx_module.sync.journal import TEMPORARY_SUFFIX, temporary_beside
from pybpod_alyx_module.sync.names import (
    LONGEST_COMPONENT,
    LONGEST_PATH,
    MAX_NAME_BYTES,
    MAX_NAME_LENGTH,
    TYPICAL_PROJECT_FOLDER,
    WINDOWS_DEVICES,
    WINDOWS_MAX_PATH,
    folder_name_problem,
    name_bytes,
    windows_length,
)
from pybpod_alyx_module.sync.project_files import open_project
from pybpod_alyx_module.sync.save import REMOVED

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pybpod_projects import load_project, new_project

EXAMPLES = settings(
    max_examples=200, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip

#: Letters from every width of UTF-8 and UTF-16: 1, 2, 3 and 4 bytes; 1 or 2 units;
#: precomposed letters whose decomposed form is longer (é, Hangul).
LETTERS = "aZ_7-~é ßж한中🐭"


def every_path_the_sync_makes(folder: Path, name: str) -> list[Path]:
    """The subject's file, the temporary file beside it, and a removed subject's file."""
    subject = folder / "subjects" / name / f"{name}.json"
    removed = folder / REMOVED / f"{name}--20260101-120000-99" / f"{name}.json"
    return [subject, Path(temporary_beside(str(subject))), removed]


def test_the_budget_is_the_arithmetic_of_the_longest_path():
    """259 usable characters = 88 (C:\\Users\\<20>\\...\\projects\\<32>) + 41 + 2 x 65."""
    assert len(TYPICAL_PROJECT_FOLDER) == 88 and MAX_NAME_LENGTH == 65
    longest = TYPICAL_PROJECT_FOLDER + LONGEST_PATH.format(name="x" * MAX_NAME_LENGTH)
    assert len(longest) == WINDOWS_MAX_PATH - 1
    assert REMOVED in LONGEST_PATH and LONGEST_COMPONENT.endswith(TEMPORARY_SUFFIX)
    beside = os.path.basename(temporary_beside(os.path.join("x", "m.json")))
    assert len(beside) == len(LONGEST_COMPONENT.format(name="m"))  # the sync's own temp name
    assert MAX_NAME_BYTES == 231


@EXAMPLES
@given(name=st.text(max_size=80))
def test_any_name_is_refused_with_a_reason_or_can_be_written_everywhere(name):
    problem = folder_name_problem(name)
    if problem is not None:
        assert isinstance(problem, str) and problem and "\n" not in problem
        return
    assert windows_length(TYPICAL_PROJECT_FOLDER + LONGEST_PATH.format(name=name)) < 260
    with tempfile.TemporaryDirectory() as folder:
        for path in every_path_the_sync_makes(Path(folder), name):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"{}")
            assert path.read_bytes() == b"{}"


@EXAMPLES
@given(
    device=st.sampled_from(sorted(WINDOWS_DEVICES)),
    upper=st.lists(st.booleans(), min_size=7, max_size=7),
    spaces=st.text(" ", max_size=2),
    extension=st.one_of(st.just(""), st.text("abcXYZ019_", min_size=1, max_size=6).map("."
                                                                                      .__add__)),
)  # fmt: skip
def test_windows_device_names_are_refused_in_any_case_with_any_extension(
    device, upper, spaces, extension
):
    cased = "".join(c.upper() if up else c.lower() for c, up in zip(device, upper))
    name = cased + (spaces if extension else "") + extension
    assert folder_name_problem(name) == f"'{name}' is a name Windows reserves for devices"


@pytest.mark.parametrize("name", ["COM0", "lpt0", "COM¹", "lpt².log", "Com³", "CONIN$",
                                  "conout$.txt", "nul.tar.gz", "AUX .json"])  # fmt: skip
def test_the_device_names_that_used_to_pass_are_refused(name):
    assert "reserves for devices" in folder_name_problem(name)


@pytest.mark.parametrize("name", ["COM10", "LPT", "CONSOLE", "NULL", "com_1", "AUX1", "CONIN"])
def test_names_that_only_look_like_devices_are_accepted(name):
    assert folder_name_problem(name) is None


@EXAMPLES
@given(name=st.text(LETTERS, min_size=1, max_size=140).filter(lambda n: n.strip() == n))
def test_length_is_counted_in_bytes_per_file_name_and_in_windows_units_per_path(name):
    problem = folder_name_problem(name)
    too_many_bytes = max(len(name.encode()), len(unicodedata.normalize("NFD", name).encode(
        "utf-16-le")) // 2) > MAX_NAME_BYTES  # fmt: skip
    too_long = len(name.encode("utf-16-le")) // 2 > MAX_NAME_LENGTH
    assert (problem is not None) == (too_many_bytes or too_long)
    if problem is None:
        assert len(name.encode()) + len(LONGEST_COMPONENT.format(name="")) <= 255


@pytest.mark.parametrize(
    ("name", "accepted"),
    [
        ("x" * 65, True),
        ("x" * 66, False),
        ("🐭" * 32, True),  # 64 UTF-16 units, 128 bytes
        ("🐭" * 33, False),  # 66 units
        ("é" * 65, True),  # 130 bytes
        ("한" * 65, True),  # 195 bytes; 195 units decomposed
        ("🐭" * 100, False),  # the 400-byte nickname of the review
    ],
)
def test_the_limits_at_their_edges(name, accepted):
    assert (folder_name_problem(name) is None) is accepted


def test_name_bytes_counts_the_larger_of_utf8_and_the_decomposed_form():
    assert name_bytes("각") == 3  # 3 UTF-8 bytes; 2 jamo decomposed
    assert name_bytes("\u0390") == 3  # ΐ: 2 bytes, but 3 units decomposed (HFS+ counts those)
    assert windows_length("🐭") == 2


def test_a_400_byte_nickname_is_refused_with_a_reason_and_the_rest_sync(tmp_path):
    """It used to fail the whole sync with a traceback (file name too long)."""
    path = tmp_path / "proj"
    new_project(path)
    records = [record("🐭" * 100), record("COM¹"), record("x" * 66), record("fine")]
    project = open_project(path)
    plan = plan_subjects(project, records, "alice")
    assert sorted(p.nickname for p in plan.refused) == sorted(["🐭" * 100, "COM¹", "x" * 66])
    assert all("cannot be a folder name" in p.reason for p in plan.refused)
    save_sync(project, apply_plan(project, plan, OverridePolicy("yes")))
    assert [s.name for s in load_project(path).subjects] == ["fine"]
