"""``pybpod-alyx``: sync Alyx subjects into a PyBpod project, list subjects, log in and out.

The exit codes are in :mod:`pybpod_alyx_module.cli.exit_codes` (and in ``--help``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from pybpod_alyx_module import __version__
from pybpod_alyx_module.alyx import (
    AlyxClient,
    AlyxError,
    BadCredentialsError,
    NotLoggedInError,
    ServerUnreachableError,
    TokenStore,
)
from pybpod_alyx_module.alyx.address import candidate_roots, normalize_address
from pybpod_alyx_module.client_settings import client_from_settings
from pybpod_alyx_module.plugin_settings import SettingsError

from . import exit_codes
from .credentials import NoPassword, find_password
from .defaults import Defaults, load_defaults
from .output import ProgressBar, format_table

SUBJECT_COLUMNS = ("nickname", "lab", "responsible_user", "sex", "birth_date", "alive", "id")

EXIT_CODES = "exit codes:\n" + exit_codes.describe()
EPILOG = (
    "Defaults come from ALYX_PLUGIN_* in ./user_settings.py when there is one.\n"
    "Passwords are never taken from the command line: a saved token ('pybpod-alyx login'),\n"
    "the system keyring, $ALYX_PASSWORD, or a prompt.\n\n" + EXIT_CODES
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    try:
        defaults = load_defaults()
    except SettingsError as exc:  # a bad ALYX_PLUGIN_* value in ./user_settings.py
        return _fail(exc, exit_codes.ERROR)
    args = build_parser(defaults).parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s"
    )
    # urllib3's "Retrying (BoundedRetry(…))" lines only with -v: by default, our own words.
    logging.getLogger("urllib3").setLevel(logging.NOTSET if args.verbose else logging.ERROR)
    try:
        return args.run(args, defaults)
    except (BadCredentialsError, NoPassword) as exc:
        return _fail(exc, exit_codes.BAD_CREDENTIALS)
    except ServerUnreachableError as exc:
        return _fail(exc, exit_codes.UNREACHABLE)
    except AlyxError as exc:
        return _fail(exc, exit_codes.ERROR)
    except KeyboardInterrupt:
        print("\nCancelled.", file=sys.stderr)
        return exit_codes.CANCELLED


def _fail(error: Exception, code: int) -> int:
    print(f"pybpod-alyx: {error}", file=sys.stderr)
    return code


def build_parser(defaults: Defaults) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pybpod-alyx",
        description="Sync subjects from an Alyx database into PyBpod projects.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    connection = argparse.ArgumentParser(add_help=False)
    connection.add_argument(
        "--address", default=defaults.address or None, required=not defaults.address,
        help="the Alyx server, e.g. https://alyx.example.org (default: ALYX_PLUGIN_ADDRESS)",
    )  # fmt: skip
    connection.add_argument(
        "--username", default=defaults.username or None, required=not defaults.username,
        help="your Alyx user name (default: ALYX_PLUGIN_USERNAME)",
    )  # fmt: skip
    connection.add_argument("-v", "--verbose", action="store_true", help="say more")

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

    add_register_commands(commands, connection)
    return parser


def connect(args: argparse.Namespace, defaults: Defaults, use_token: bool = True) -> AlyxClient:
    """A client that uses a saved token, else finds a password only when it needs one.

    ``use_token=False`` (``login``): a password is needed whatever token is saved.
    """
    token_file = defaults.token_file if use_token else None
    return client_from_settings(
        defaults,
        address=args.address,
        username=args.username,
        password_provider=lambda: find_password(
            args.address, args.username, defaults.password, token_file=token_file
        ),
    )


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
    store = TokenStore(defaults.token_file)
    roots = candidate_roots(normalize_address(args.address))
    had = [store.forget(root, args.username) for root in roots]
    print(
        "Token forgotten." if any(had) else f"No saved token for {args.username} at {args.address}."
    )
    return exit_codes.OK


def _run_sync(args: argparse.Namespace, defaults: Defaults) -> int:
    from .sync_command import run_sync

    try:
        with connect(args, defaults) as alyx:
            return run_sync(alyx, args, _selection(args))
    except NotLoggedInError as exc:
        return _fail(exc, exit_codes.BAD_CREDENTIALS)


if __name__ == "__main__":
    sys.exit(main())
