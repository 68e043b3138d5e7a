"""The exit codes of ``pybpod-alyx``, for scripts that run it on rigs.

``MEANINGS`` says each in words: ``--help`` and the README list them from it.
:data:`EXIT_CODE_OF` is the one place an error that ends a command becomes a code.
"""

from __future__ import annotations

from pybpod_alyx_module.alyx.errors import (
    AlyxError,
    BadCredentialsError,
    NotLoggedInError,
    ServerUnreachableError,
)
from pybpod_alyx_module.errors import Cancelled, PluginError

from .connecting import MissingConnection
from .credentials import NoPassword

OK = 0
#: Anything else: a broken project folder, a server error, a bad answer…
ERROR = 1
#: Wrong command-line usage (argparse's own code).
USAGE = 2
#: The server refused the user name or password, or no password could be found.
BAD_CREDENTIALS = 3
#: The server could not be reached, or did not answer in time.
UNREACHABLE = 4
#: The sync was done, but some Alyx subjects were left out: a name conflict with a local
#: subject, or a nickname that cannot be a folder name. Wins over ``SKIPPED``.
LEFT_OUT = 5
#: The sync was done, but subjects whose details changed on Alyx kept their local details
#: because nobody decided: no terminal to ask at, and no ``--override``.
SKIPPED = 6
#: Registering (``register``, ``outbox``, ``weigh``): some items still wait to be sent
#: (Alyx could not be reached); a later run sends them.
PENDING = 7
#: Registering: some items need attention (Alyx refused them); ``pybpod-alyx outbox`` says
#: why and what to do. Wins over ``PENDING``.
NEEDS_ATTENTION = 8
#: Cancelled by the user (Ctrl-C, or Cancel at a question).
CANCELLED = 130

MEANINGS = {
    OK: "done",
    ERROR: "any other error (a broken project folder, a server error, …)",
    USAGE: "wrong command-line usage",
    BAD_CREDENTIALS: "bad credentials, or no password found",
    UNREACHABLE: "server unreachable or too slow",
    LEFT_OUT: "done, but subjects left out (name conflicts, refused nicknames)",
    SKIPPED: "done, but changed subjects skipped: no terminal and no --override",
    PENDING: "registering: some items still wait for Alyx (unreachable); run again later",
    NEEDS_ATTENTION: "registering: some items need attention (see 'pybpod-alyx outbox')",
    CANCELLED: "cancelled (Ctrl-C, or Cancel at a question)",
}


def describe() -> str:
    """The exit codes, one a line, as ``--help`` shows them."""
    return "\n".join(f"  {code:>3}  {meaning}" for code, meaning in MEANINGS.items())


#: The exit code of each error that ends a command: the first row whose class it is an
#: instance of (so a subclass comes before its base).
EXIT_CODE_OF: tuple[tuple[type[BaseException], int], ...] = (
    (BadCredentialsError, BAD_CREDENTIALS),
    (NotLoggedInError, BAD_CREDENTIALS),
    (NoPassword, BAD_CREDENTIALS),
    (ServerUnreachableError, UNREACHABLE),
    (MissingConnection, USAGE),
    (Cancelled, CANCELLED),
    (AlyxError, ERROR),
    (PluginError, ERROR),
)


def exit_code_of(error: BaseException) -> int:
    """The exit code of an error that ends a command (:data:`EXIT_CODE_OF`; else ``ERROR``).

    >>> exit_code_of(NoPassword("no password"))
    3
    >>> exit_code_of(Cancelled("Cancelled."))
    130
    """
    return next((code for kind, code in EXIT_CODE_OF if isinstance(error, kind)), ERROR)
