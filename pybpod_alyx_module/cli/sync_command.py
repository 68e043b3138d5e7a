"""``pybpod-alyx sync``: download, plan, ask, apply, save — then a summary table."""

from __future__ import annotations

import argparse
import sys
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
)
from pybpod_alyx_module.sync.project_files import ProjectError, open_project

from . import exit_codes
from .output import ProgressBar, format_table

_ANSWERS = {"n": Answer.NO, "y": Answer.YES, "N": Answer.NO_TO_ALL, "Y": Answer.YES_TO_ALL}


def run_sync(alyx: AlyxClient, args: argparse.Namespace, selection: SubjectSelection) -> int:
    try:
        project = open_project(args.project_dir, create=args.create)
        username = check_user_name(alyx.username)
    except (ProjectError, ValueError) as exc:
        print(f"pybpod-alyx: {exc}", file=sys.stderr)
        return exit_codes.ERROR

    print(f"Syncing {selection.describe(alyx.username)} from {alyx.address} into {project.path}")
    progress = ProgressBar("Downloading subjects")
    records = download_subjects(alyx, selection, project.subjects, progress=progress)
    progress.close()
    if args.details:
        progress = ProgressBar("Downloading details")
        records = add_details(alyx, records, progress=progress)
        progress.close()
    colleagues = _project_users(alyx, records) if args.import_users else []
    plan = plan_subjects(project, records, username=username, other_users=colleagues)

    if args.dry_run:
        print(format_plan(plan))
        return exit_codes.CONFLICTS if plan.conflicts else exit_codes.OK
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
    print(f"Logged-in user: {username}@ALYX")
    return exit_codes.CONFLICTS if result.conflicts else exit_codes.OK


def format_plan(plan: SyncPlan) -> str:
    """The plan as a table of subjects and what would happen to each."""
    rows: list[tuple[str, str, str]] = []
    rows += [(a.name, "add", a.fields.get("lab") or "") for a in plan.to_add]
    rows += [(u.name, "update", ", ".join(u.changed)) for u in plan.to_update]
    rows += [(r.name, "remove", f"died {r.death_date}") for r in plan.to_remove]
    rows += [(p.nickname, "conflict", p.reason) for p in plan.conflicts]
    rows += [(p.nickname, "refused", p.reason) for p in plan.refused]
    rows += [(name, "add user", "") for name in plan.users_to_add]
    counts = ", ".join(f"{count} {what}" for what, count in plan.counts().items())
    return f"{format_table(('subject', 'action', 'details'), rows)}\n\nPlan: {counts} (dry run: nothing changed)"


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
