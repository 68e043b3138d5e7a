"""The exit codes of ``pybpod-alyx``, for scripts that run it on rigs."""

OK = 0
#: Anything else: a broken project folder, a server error, a bad answer…
ERROR = 1
#: Wrong command-line usage (argparse's own code).
USAGE = 2
#: The server refused the user name or password, or no password could be found.
BAD_CREDENTIALS = 3
#: The server could not be reached, or did not answer in time.
UNREACHABLE = 4
#: The sync was done, but some subjects were left out because of name conflicts.
CONFLICTS = 5
#: Cancelled by the user (Ctrl-C, or Cancel at a question).
CANCELLED = 130
