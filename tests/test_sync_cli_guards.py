"""``pybpod-alyx sync`` guards the project folder before it downloads anything: the lock of
another sync, a read-only disk, a broken project file — each a clear message and exit 1,
never a traceback. Against the real Alyx, as alice.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pybpod_projects import add_local_subject, new_project

from pybpod_alyx_module.cli import exit_codes

CLI = Path(sys.executable).with_name("pybpod-alyx")
DOWNLOADING = "Syncing "


@pytest.fixture(scope="module")
def cli(alyx_server, tmp_path_factory):
    """``cli(project, *extra)``: runs the sync as alice; returns (code, stdout, stderr)."""
    env = dict(
        os.environ,
        HOME=str(tmp_path_factory.mktemp("home")),
        ALYX_PASSWORD=alyx_server.users["alice"],
        PYTHONIOENCODING="utf-8",
    )
    base = [str(CLI), "sync", "--address", alyx_server.base_url, "--username", "alice"]

    def run(project: Path, *extra: str) -> tuple[int, str, str]:
        done = subprocess.run(
            [*base, str(project), *extra],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=120,
        )
        return done.returncode, done.stdout, done.stderr

    return run


@pytest.fixture
def project(tmp_path) -> Path:
    made = new_project(tmp_path / "proj")
    add_local_subject(made, "lab_pet")
    made.save(made.path)
    return Path(made.path)


HOLDER = """
import sys, time
from pybpod_alyx_module.sync.lock import project_lock
with project_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_second_sync_of_a_busy_project_stops_with_a_clear_message(cli, project):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(project)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        code, out, err = cli(project)
    finally:
        holder.kill()
        holder.wait(timeout=10)
    assert code == exit_codes.ERROR
    assert "Another sync of" in err and "Try again when it has finished" in err
    assert "Traceback" not in err and DOWNLOADING not in out


def test_a_read_only_project_is_refused_before_the_download(cli, tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)])
    assert mounted.returncode == 0, "this machine does not allow mounting a tmpfs: run as root"
    try:
        new_project(mount / "proj")
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        code, out, err = cli(mount / "proj")
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)
    assert code == exit_codes.ERROR
    assert "read-only" in err.lower() and "Traceback" not in err
    assert DOWNLOADING not in out


def test_a_broken_subject_file_is_named(cli, project):
    (project / "subjects" / "lab_pet" / "lab_pet.json").write_text('{"name": "lab', "utf-8")
    code, out, err = cli(project)
    assert code == exit_codes.ERROR
    assert "subjects/lab_pet/lab_pet.json is not valid JSON" in err
    assert "File not found" not in err and "Traceback" not in err
    assert DOWNLOADING not in out


def test_the_command_line_completes_an_interrupted_sync_first(cli, project):
    """A journal left by a killed save (here: made by hand) is rolled forward, then the sync runs."""
    staged = project / ".alyx-staging" / "subjects" / "from_before"
    staged.mkdir(parents=True)
    (staged / "from_before.json").write_text('{"setup": "None"}', encoding="utf-8")
    (project / ".alyx-journal.json").write_text(
        '{"folders": [], "moves": [[".alyx-staging/subjects/from_before", '
        '"subjects/from_before"]]}',
        encoding="utf-8",
    )
    code, out, err = cli(project)
    assert code in (exit_codes.OK, exit_codes.LEFT_OUT), err
    assert out.startswith("Completed an interrupted sync")
    assert (project / "subjects" / "from_before" / "from_before.json").exists()
    assert not (project / ".alyx-journal.json").exists()
    assert not (project / ".alyx-staging").exists()


# -- a folder that is not a project: what to do next (issue 16) ----------------------------------


@pytest.mark.parametrize("typed", ["alyx-dem0", "alyx_demo", "alyx-dmeo", "alyxdemo"])
def test_a_typo_for_a_project_beside_it_suggests_that_project_not_create(cli, tmp_path, typed):
    """``sync alyx-dem0`` for ``alyx-demo``: the close name, never ``--create`` (a second,
    empty project by mistake); nothing is made."""
    demo = Path(new_project(tmp_path / "alyx-demo").path)
    (tmp_path / "unrelated").mkdir()
    code, _out, err = cli(tmp_path / typed)
    assert code == exit_codes.ERROR
    assert f"did you mean {demo}?" in err
    assert "--create" not in err and DOWNLOADING not in err
    assert not (tmp_path / typed).exists()


@pytest.mark.parametrize("lock_left", [False, True], ids=["empty", "only-a-lock-file"])
def test_an_empty_folder_suggests_create_even_with_a_lock_file_left(cli, tmp_path, lock_left):
    """An empty folder is where ``--create`` helps; a lock file a killed sync left (or a
    Windows sync, which keeps it) does not make it a project folder."""
    folder = tmp_path / "new"
    folder.mkdir()
    if lock_left:
        (folder / ".alyx-sync.lock").write_bytes(b"")
    code, _out, err = cli(folder)
    assert code == exit_codes.ERROR
    assert "add --create to make a new project there" in err
    assert {p.name for p in folder.iterdir()} <= {".alyx-sync.lock"}


def test_a_missing_folder_named_like_no_project_suggests_create(cli, project):
    code, _out, err = cli(project.with_name("something-else-entirely"))
    assert code == exit_codes.ERROR
    assert "add --create to make a new project there" in err and "did you mean" not in err


def test_a_folder_holding_other_files_gets_no_create_hint(cli, tmp_path):
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a project")
    code, _out, err = cli(folder)
    assert code == exit_codes.ERROR
    assert "is not a PyBpod project" in err and "--create" not in err
