"""``pybpod-alyx``: sync Alyx subjects into a PyBpod project, list subjects, log in and out.

Every error that ends a command — the plugin's (:class:`~pybpod_alyx_module.errors.PluginError`)
and the client's (:class:`~pybpod_alyx_module.alyx.AlyxError`) — is one line on stderr and the
exit code :data:`~pybpod_alyx_module.cli.exit_codes.EXIT_CODE_OF` gives it, here and nowhere
else; a missing PyBpod is one line saying what to install. The exit codes are in
:mod:`pybpod_alyx_module.cli.exit_codes` (and in ``--help``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from pybpod_alyx_module import __version__
from pybpod_alyx_module.alyx import AlyxError, TokenStore
from pybpod_alyx_module.alyx.address import candidate_roots, normalize_address
from pybpod_alyx_module.errors import PluginError
from pybpod_alyx_module.pybpod_internals.missing import PyBpodMissing

from . import exit_codes
from .connecting import always, connect, server_and_user
from .defaults import Defaults, load_defaults
from .output import ProgressBar, format_table

SUBJECT_COLUMNS = ("nickname", "lab", "responsible_user", "sex", "birth_date", "alive", "id")

EXIT_CODES = "exit codes:\n" + exit_codes.describe()
EPILOG = (
    "--address and --username default to ALYX_PLUGIN_ADDRESS and ALYX_PLUGIN_USERNAME in\n"
    "./user_settings.py (the folder PyBpod starts in), like every ALYX_PLUGIN_* setting.\n"
    "Passwords are never taken from the command line: a saved token ('pybpod-alyx login'),\n"
    "the system keyring, $ALYX_PASSWORD, or a prompt.\n\n" + EXIT_CODES
)


#: PyBpod's packages: one missing, wherever it is imported, is a ``PyBpodMissing`` line.
PYBPOD_PACKAGES = frozenset({"pybpodgui_api", "pybpodapi", "sca", "pyforms", "pyforms_gui"})


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    try:
        defaults = load_defaults()  # a bad ALYX_PLUGIN_* value: SettingsError, one line
        args = build_parser(defaults).parse_args(argv)
        logging.basicConfig(
            level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s"
        )
        # urllib3's "Retrying (BoundedRetry(…))" lines only with -v: by default, our own words.
        logging.getLogger("urllib3").setLevel(logging.NOTSET if args.verbose else logging.ERROR)
        if args.needs_server(args):
            server_and_user(args, defaults)  # none given: said before anything is done
        return args.run(args, defaults)
    except (AlyxError, PluginError) as exc:  # PyBpodMissing among them
        return _fail(exc)
    except ImportError as exc:  # a PyBpod module imported without pybpod_internals' guard
        missing = (exc.name or "").partition(".")[0]
        if missing not in PYBPOD_PACKAGES:
            raise
        return _fail(PyBpodMissing(missing))
    except KeyboardInterrupt:
        print("\nCancelled.", file=sys.stderr)
        return exit_codes.CANCELLED


def _fail(error: Exception) -> int:
    """Say ``error`` in one line on stderr; its exit code (:data:`exit_codes.EXIT_CODE_OF`)."""
    print(f"pybpod-alyx: {error}", file=sys.stderr)
    return exit_codes.exit_code_of(error)


def build_parser(defaults: Defaults) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pybpod-alyx",
        description="Sync subjects from an Alyx database into PyBpod projects.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    # Not required here: a command that needs no server (``outbox``, ``register --dry-run``)
    # says so with ``needs_server``; one that does is refused by ``server_and_user``.
    connection = argparse.ArgumentParser(add_help=False)
    connection.add_argument(
        "--address", default=defaults.address or None,
        help="the Alyx server, e.g. https://alyx.example.org (default: ALYX_PLUGIN_ADDRESS)",
    )  # fmt: skip
    connection.add_argument(
        "--username", default=defaults.username or None,
        help="your Alyx user name (default: ALYX_PLUGIN_USERNAME)",
    )  # fmt: skip
    connection.add_argument("-v", "--verbose", action="store_true", help="say more")
    connection.set_defaults(needs_server=always)

    selection = argparse.ArgumentParser(add_help=False)
    selection.add_argument("--lab", help="the subjects of this lab")
    selection.add_argument("--project", help="the subjects of this Alyx project")
    selection.add_argument(
        "--responsible", metavar="USER",
        help="the subjects this user is responsible for (default: you, unless --lab/--project)",
    )  # fmt: skip
    selection.add_argument(
        "--all-alive", action="store_true", help="every alive subject you can see"
    )

    sync = commands.add_parser(
        "sync", parents=[connection, selection], help="merge Alyx subjects into a PyBpod project",
        epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    sync.add_argument(
        "project_dir", type=Path, metavar="PROJECT_DIR",
        help="the PyBpod project folder (the one holding PROJECT_DIR.json); "
        "with --create, a new or empty folder",
    )  # fmt: skip
    sync.add_argument(
        "--dry-run", action="store_true",
        help="print the plan, change nothing; exits as the sync would",
    )  # fmt: skip
    sync.add_argument(
        "--override", choices=("ask", "yes", "no"),
        help="replace changed local details: ask (default at a terminal), yes, or no; "
        "without a terminal and without --override, changed subjects are skipped (exit 6); "
        "new subjects are added in every case",
    )  # fmt: skip
    sync.add_argument(
        "--override-only", nargs="+", metavar="NAME",
        help="replace the details of these local subjects only",
    )  # fmt: skip
    sync.add_argument(
        "--import-users", action="store_true",
        help="also add the users of the Alyx projects of the synced subjects",
    )  # fmt: skip
    sync.add_argument(
        "--details", action="store_true",
        help="also download weighings and water administrations (two lists per 50 subjects)",
    )  # fmt: skip
    sync.add_argument(
        "--create", action="store_true", help="create the project if the folder is empty or new"
    )
    sync.set_defaults(run=_run_sync)

    subjects = commands.add_parser(
        "subjects", parents=[connection, selection], help="list Alyx subjects"
    )
    subjects.add_argument("--alive", action="store_true", help="alive subjects only")
    subjects.add_argument("--json", action="store_true", help="print JSON instead of a table")
    subjects.set_defaults(run=_run_subjects)

    login = commands.add_parser(
        "login", parents=[connection], help="log in once and save the token"
    )
    login.set_defaults(run=_run_login)
    logout = commands.add_parser("logout", parents=[connection], help="forget the saved token")
    logout.set_defaults(run=_run_logout)

    from .register_command import add_commands as add_register_commands
    from .weigh_command import add_command as add_weigh_command

    add_register_commands(commands, connection)
    add_weigh_command(commands, connection)
    return parser


def _selection(args: argparse.Namespace):
    from pybpod_alyx_module.sync import SubjectSelection

    return SubjectSelection(
        responsible_user=args.responsible,
        lab=args.lab,
        project=args.project,
        all_alive=args.all_alive,
    )


def _run_subjects(args: argparse.Namespace, defaults: Defaults) -> int:
    with connect(args, defaults) as alyx:
        query = _selection(args).filters(alyx.username)
        if args.alive:
            query["alive"] = True
        progress = ProgressBar("Downloading subjects")
        subjects = list(alyx.subjects(progress=progress, **query))
        progress.close()
    if args.json:
        json.dump(subjects, sys.stdout, indent=1, ensure_ascii=False)
        print()
    elif not subjects:
        print("0 subjects")
    else:
        print(
            format_table(SUBJECT_COLUMNS, ([s.get(c) for c in SUBJECT_COLUMNS] for s in subjects))
        )
        print(f"\n{len(subjects)} subjects")
    return exit_codes.OK


def _run_login(args: argparse.Namespace, defaults: Defaults) -> int:
    with connect(args, defaults, use_token=False) as alyx:
        alyx.login()
        print(
            f"Logged in to {alyx.api_root} as {alyx.username}; token saved in {defaults.token_file}"
        )
    return exit_codes.OK


def _run_logout(args: argparse.Namespace, defaults: Defaults) -> int:
    """Forget the token under every API root the address may have (no network needed)."""
    address, username = server_and_user(args, defaults)
    store = TokenStore(defaults.token_file)
    roots = candidate_roots(normalize_address(address))
    had = [store.forget(root, username) for root in roots]
    print("Token forgotten." if any(had) else f"No saved token for {username} at {address}.")
    return exit_codes.OK


def _run_sync(args: argparse.Namespace, defaults: Defaults) -> int:
    from .sync_command import run_sync

    with connect(args, defaults) as alyx:
        return run_sync(alyx, args, _selection(args))


if __name__ == "__main__":
    sys.exit(main())
