"""``pybpod-alyx sync``: download, plan, ask, apply, save — then a summary table.

A sync that leaves work undone ends with its own exit code and a one-line hint on
stderr, so that a job run without a terminal learns it: subjects left out (a name
conflict, a nickname that cannot be a folder name) exit 5; subjects whose changed
details were skipped because nobody decided (no terminal, no ``--override``) exit 6.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pybpod_alyx_module.alyx import AlyxClient
from pybpod_alyx_module.sync import (
    Answer,
    OverridePolicy,
    SubjectSelection,
    SubjectUpdate,
    SyncCancelled,
    SyncPlan,
    add_details,
    apply_plan,
    check_user_name,
    download_subjects,
    plan_subjects,
    save_sync,
    users_to_add,
)
from pybpod_alyx_module.sync.disk import check_writable
from pybpod_alyx_module.sync.download import records_to_detail, with_details
from pybpod_alyx_module.sync.journal import recover_interrupted_sync
from pybpod_alyx_module.sync.lock import project_lock
from pybpod_alyx_module.sync.project_files import ProjectError, open_project

from . import exit_codes
from .output import ProgressBar, format_table

_ANSWERS = {"n": Answer.NO, "y": Answer.YES, "N": Answer.NO_TO_ALL, "Y": Answer.YES_TO_ALL}


def run_sync(alyx: AlyxClient, args: argparse.Namespace, selection: SubjectSelection) -> int:
    """The whole sync holds the project's lock: a second sync (CLI or GUI) waits, then stops."""
    try:
        with project_lock(args.project_dir, create=args.create):
            return _run_sync_locked(alyx, args, selection)
    except ProjectError as exc:
        print(f"pybpod-alyx: {exc}", file=sys.stderr)
        return exit_codes.ERROR


def _run_sync_locked(
    alyx: AlyxClient, args: argparse.Namespace, selection: SubjectSelection
) -> int:
    if args.override == "ask" and not sys.stdin.isatty():
        print("pybpod-alyx: --override ask needs a terminal to ask at", file=sys.stderr)
        return exit_codes.USAGE
    try:
        recovered = recover_interrupted_sync(args.project_dir)
        if recovered:
            print(recovered)
        project = open_project(args.project_dir, create=args.create)
        check_writable(project.path)
        username = check_user_name(alyx.username)
    except (ProjectError, ValueError) as exc:
        hint = "" if args.create or _holds_something(args.project_dir) else _CREATE_HINT
        print(f"pybpod-alyx: {exc}{hint}", file=sys.stderr)
        return exit_codes.ERROR

    print(f"Syncing {selection.describe(alyx.username)} from {alyx.address} into {project.path}")
    progress = ProgressBar("Downloading subjects")
    records = download_subjects(alyx, selection, project.subjects, progress=progress)
    progress.close()
    if args.details:
        records = _add_details(alyx, project, records, username)
    colleagues = _project_users(alyx, records) if args.import_users else []
    plan = plan_subjects(project, records, username=username, other_users=colleagues)

    unasked = _nobody_decides(args)
    if args.dry_run:
        print(format_plan(plan, users_to_add(project, [username]) + plan.users_to_add))
        skipped = [u.name for u in plan.to_update if u.needs_consent] if unasked else []
        return _finish(plan.conflicts + plan.refused, skipped, would=True)
    try:
        result = apply_plan(project, plan, _policy(args))
    except SyncCancelled as exc:
        print(exc, file=sys.stderr)
        return exit_codes.CANCELLED
    print("Saving…", flush=True)
    try:
        save_sync(project, result)
    except KeyboardInterrupt:
        print(
            "\nInterrupted while saving: each file is whole, old or new; "
            "run the sync again to complete it.",
            file=sys.stderr,
        )
        return exit_codes.CANCELLED
    print(format_table(("result", "subjects"), result.counts().items()))
    for problem in [*result.conflicts, *result.refused]:
        print(f"  left out {problem.nickname} ({problem.lab}): {problem.reason}")
    if result.users_added:
        print(f"Users added: {', '.join(user.name for user in result.users_added)}")
    print(f"Logged-in user: {username}@ALYX")
    skipped = [subject.name for subject in result.declined] if unasked else []
    return _finish(result.conflicts + result.refused, skipped)


_CREATE_HINT = " (add --create to make a new project there)"


def _holds_something(folder: Path) -> bool:
    """True if ``folder`` is a file or a folder with something in it: --create would not help."""
    folder = folder.expanduser()
    return folder.exists() and (not folder.is_dir() or any(folder.iterdir()))


def _nobody_decides(args: argparse.Namespace) -> bool:
    """True if changed details are skipped by default: no terminal and no --override*."""
    return not (args.override or args.override_only or sys.stdin.isatty())


def _finish(left_out: list[Any], skipped: list[str], would: bool = False) -> int:
    """The exit code of a finished sync (``would``: a dry run), with a one-line hint for each."""
    keep, leave = ("would keep", "would be left out") if would else ("kept", "left out")
    if skipped:
        print(
            f"pybpod-alyx: {len(skipped)} subject(s) changed on Alyx {keep} their local details "
            f"(no terminal to ask at): run again with --override yes to replace them, "
            f"or --override-only NAME …",
            file=sys.stderr,
        )
    if left_out:
        print(
            f"pybpod-alyx: {len(left_out)} subject(s) {leave} (see why above): rename the "
            f"local subject of a conflict, or the nickname on Alyx",
            file=sys.stderr,
        )
        return exit_codes.LEFT_OUT
    return exit_codes.SKIPPED if skipped else exit_codes.OK


def format_plan(plan: SyncPlan, new_users: Sequence[str] = ()) -> str:
    """The plan as a table of subjects (and ``new_users``) and what would happen to each.

    With nothing to change, one line instead of an empty table.
    """
    rows: list[tuple[str, str, str]] = []
    rows += [(a.name, "add", a.fields.get("lab") or "") for a in plan.to_add]
    rows += [(u.name, "update", ", ".join(u.changed)) for u in plan.to_update]
    rows += [(r.name, "remove", f"died {r.death_date}") for r in plan.to_remove]
    rows += [(p.nickname, "conflict", p.reason) for p in plan.conflicts]
    rows += [(p.nickname, "refused", p.reason) for p in plan.refused]
    rows += [(name, "add user", "") for name in new_users]
    counts = ", ".join(f"{count} {what}" for what, count in plan.counts().items())
    if new_users:
        counts += f", {len(new_users)} user(s) to add"
    summary = f"Plan: {counts} (dry run: nothing changed)"
    if not rows:
        return f"Nothing to change. {summary}"
    return f"{format_table(('name', 'action', 'details'), rows)}\n\n{summary}"


def _policy(args: argparse.Namespace) -> OverridePolicy:
    if args.override_only:
        return OverridePolicy(only=set(args.override_only))
    mode = args.override or ("ask" if sys.stdin.isatty() else "no")
    return OverridePolicy(mode, ask=_ask if mode == "ask" else None)


def _ask(update: SubjectUpdate) -> str:
    """The 1.x question, at the terminal."""
    print(f"Subject '{update.name}' already exists locally. Replace local details?")
    print(f"  changed on Alyx: {', '.join(update.changed)}")
    while True:
        reply = input("  [n]o, [y]es, [N]o to all, [Y]es to all, [c]ancel: ").strip() or "n"
        if reply == "c":
            return Answer.CANCEL.value
        if reply in _ANSWERS:
            return _ANSWERS[reply].value


def _project_users(alyx: AlyxClient, records: list[dict[str, Any]]) -> list[str]:
    """The users of the Alyx projects the synced subjects belong to."""
    names = {p for record in records for p in (record.get("projects") or [])}
    return sorted(
        {u for p in alyx.projects() if p.get("name") in names for u in p.get("users", [])}
    )


def _add_details(
    alyx: AlyxClient, project: Any, records: list[dict[str, Any]], username: str
) -> list[dict[str, Any]]:
    """Weighings and water of the subjects the sync keeps: refused ones are never fetched;
    a subject whose details fail is named and keeps its list fields."""
    wanted = records_to_detail(records, plan_subjects(project, records, username=username))
    progress = ProgressBar("Downloading details")
    failures: list[Any] = []
    detailed = add_details(alyx, wanted, progress=progress, on_failure=failures.append)
    progress.close()
    for failure in failures:
        print(
            f"  no details for {failure.nickname} ({failure.lab}): {failure.reason}",
            file=sys.stderr,
        )
    return with_details(records, detailed)
