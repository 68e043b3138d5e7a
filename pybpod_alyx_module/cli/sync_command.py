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
from pybpod_alyx_module.alyx.details import DetailFailure
from pybpod_alyx_module.errors import Cancelled, PluginError
from pybpod_alyx_module.sync import (
    Answer,
    OverridePolicy,
    SubjectSelection,
    SubjectUpdate,
    SyncPlan,
    users_to_add,
)
from pybpod_alyx_module.sync.folder_hints import is_empty_folder, similar_projects
from pybpod_alyx_module.sync.project_files import ProjectError
from pybpod_alyx_module.sync.session import SaveInterrupted, SyncEvents, SyncRequest, sync_folder

from . import exit_codes
from .output import ProgressBar, format_table

_ANSWERS = {"n": Answer.NO, "y": Answer.YES, "N": Answer.NO_TO_ALL, "Y": Answer.YES_TO_ALL}


def run_sync(alyx: AlyxClient, args: argparse.Namespace, selection: SubjectSelection) -> int:
    """The whole sync (:func:`~pybpod_alyx_module.sync.session.sync_folder`), printed.

    It holds the project's lock: a second sync (CLI or GUI) waits, then stops.
    """
    if args.override == "ask" and not sys.stdin.isatty():
        print("pybpod-alyx: --override ask needs a terminal to ask at", file=sys.stderr)
        return exit_codes.USAGE
    request = SyncRequest(selection, details=args.details, import_users=args.import_users)
    events = _Printed(alyx, selection)
    try:
        outcome = sync_folder(
            alyx,
            args.project_dir,
            request,
            _policy(args),
            create=args.create,
            dry_run=args.dry_run,
            events=events,
        )
    except SaveInterrupted as exc:
        print(f"\n{exc}", file=sys.stderr)
        return exit_codes.exit_code_of(exc)
    except Cancelled as exc:
        print(exc, file=sys.stderr)
        return exit_codes.exit_code_of(exc)
    except PluginError as exc:
        wants_hint = isinstance(exc, ProjectError) and not args.create
        hint = folder_hint(args.project_dir) if wants_hint else ""
        print(f"pybpod-alyx: {exc}{hint}", file=sys.stderr)
        return exit_codes.exit_code_of(exc)
    finally:
        events.close()
    plan, result = outcome.downloaded.plan, outcome.result
    username = outcome.downloaded.username
    unasked = _nobody_decides(args)
    if result is None:
        print(format_plan(plan, users_to_add(outcome.project, [username]) + plan.users_to_add))
        skipped = [u.name for u in plan.to_update if u.needs_consent] if unasked else []
        return _finish(plan.conflicts + plan.refused, skipped, would=True)
    print(format_table(("result", "subjects"), result.counts().items()))
    for problem in [*result.conflicts, *result.refused]:
        print(f"  left out {problem.nickname} ({problem.lab}): {problem.reason}")
    if result.users_added:
        print(f"Users added: {', '.join(user.name for user in result.users_added)}")
    print(f"Logged-in user: {username}@ALYX")
    skipped = [subject.name for subject in result.declined] if unasked else []
    return _finish(result.conflicts + result.refused, skipped)


class _Printed(SyncEvents):
    """The sync's events at the terminal: what is being done, progress bars, detail failures."""

    def __init__(self, alyx: AlyxClient, selection: SubjectSelection) -> None:
        self._alyx, self._selection = alyx, selection
        self._bars: dict[str, ProgressBar] = {}

    def recovered(self, message: str) -> None:
        print(message)

    def started(self, project: Any) -> None:
        who = self._selection.describe(self._alyx.username)
        print(f"Syncing {who} from {self._alyx.address} into {project.path}")

    def progress(self, stage: str, done: int, total: int | None) -> None:
        if stage not in self._bars:
            self.close()
            self._bars[stage] = ProgressBar(f"Downloading {stage}")
        self._bars[stage](done, total)

    def detail_failed(self, failure: DetailFailure) -> None:
        self.close()
        print(
            f"  no details for {failure.nickname} ({failure.lab}): {failure.reason}",
            file=sys.stderr,
        )

    def saving(self) -> None:
        self.close()
        print("Saving…", flush=True)

    def close(self) -> None:
        """End the progress bar on show, if any (the next line starts on its own)."""
        for bar in self._bars.values():
            bar.close()
        self._bars.clear()


_CREATE_HINT = " (add --create to make a new project there)"


def folder_hint(folder: Path) -> str:
    """What to add to "not a project": a close existing project, or ``--create``, or nothing.

    ``--create`` is suggested for a missing folder and an empty one (the sync's own lock
    file does not count), but not for a missing folder named like a project beside it: a
    typo would then become a second, empty project.
    """
    if is_empty_folder(folder):
        return _CREATE_HINT
    if folder.expanduser().exists():
        return ""
    close = similar_projects(folder)
    if close:
        return f"; did you mean {close[0]}?"
    return _CREATE_HINT


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
