"""``pybpod-alyx weigh``: record a subject's weight now, and send it.

The weight goes through the same rules as one typed in the GUI's "Weigh before the run":
one that cannot be true is refused (:func:`~pybpod_alyx_module.register.typed_amounts.parse_grams`);
one far from the subject's last weighing, or from its reference weight when it has none
(:func:`~pybpod_alyx_module.register.plausibility.unusual_weight`: a typo, a wrong unit),
is refused unless ``--confirm-unusual`` says it is right — where the GUI asks. The numbers
compared with are the project's, as the last sync stored them (``sync --details`` brings the
weighings; every sync the reference weight). The welfare verdict is printed as the GUI
shows it: the weight as a percentage of the reference weight, a warning below
``ALYX_PLUGIN_WEIGHT_THRESHOLD``.
"""

from __future__ import annotations

import argparse
import datetime
from pathlib import Path
from typing import Any

from pybpod_alyx_module.register import alyx_subjects, queue_weighing, weighing_key
from pybpod_alyx_module.register.plausibility import unusual_weight
from pybpod_alyx_module.register.project_reader import read_project
from pybpod_alyx_module.register.times import ServerTimes
from pybpod_alyx_module.register.typed_amounts import parse_grams
from pybpod_alyx_module.register.welfare import check_weight

from . import exit_codes
from .connecting import server_and_user
from .defaults import Defaults
from .registering import item_exit_code, open_outbox, options_from, refuse, send_pending

CONFIRM = "--confirm-unusual"


def add_command(commands: Any, connection: argparse.ArgumentParser) -> None:
    """Add ``weigh`` to the ``pybpod-alyx`` subcommands."""
    weigh = commands.add_parser(
        "weigh", parents=[connection], epilog="exit codes:\n" + exit_codes.describe(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="record a subject's weight now",
    )  # fmt: skip
    weigh.add_argument("project_dir", type=Path, metavar="PROJECT_DIR")
    weigh.add_argument("subject", metavar="SUBJECT", help="the subject's name in the project")
    weigh.add_argument("grams", type=_grams, metavar="GRAMS", help="e.g. 23.4 or 23,4")
    weigh.add_argument(
        CONFIRM, action="store_true",
        help="send a weight far from the subject's last weighing (or reference weight) "
        "all the same: without it, such a weight is refused as a likely typo",
    )  # fmt: skip
    weigh.set_defaults(run=run_weigh)


def _grams(text: str) -> float:
    try:
        grams = parse_grams(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if grams is None:
        raise argparse.ArgumentTypeError("a weight in grams is needed")
    return grams


def run_weigh(args: argparse.Namespace, defaults: Defaults) -> int:
    """Weigh now and send; the exit code is the weighing's own, whatever else waits."""
    _address, username = server_and_user(args, defaults)  # before anything is queued
    options = options_from(defaults)
    project = read_project(args.project_dir)
    named = [s for s in alyx_subjects(project).values() if s.name == args.subject]
    if not named:
        return refuse(
            f"{args.subject} is not an Alyx subject of {project.path} (sync it from Alyx first)"
        )
    saved = next(s.data for s in project.subjects if s.uuid4 == named[0].uuid4)
    unusual = unusual_weight(args.grams, saved)
    if unusual and not args.confirm_unusual:
        return refuse(
            f"{args.subject}: {unusual} Nothing was queued or sent; if {args.grams:g} g is "
            f"right, weigh again with {CONFIRM}"
        )
    verdict = check_weight(args.grams, saved.get("reference_weight"), defaults.weight_threshold)
    print(f"{args.subject}: {args.grams:g} g, {verdict.text(defaults.weight_threshold)}")
    when = datetime.datetime.now()
    with open_outbox(options, project.path) as outbox:
        queue_weighing(outbox, named[0], args.grams, username, when, ServerTimes.of(options))
        stopped = send_pending(args, defaults, outbox, options)
        return stopped or item_exit_code(outbox.state_of(weighing_key(named[0], when, args.grams)))
