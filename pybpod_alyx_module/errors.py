"""The root of the plugin's own errors, beside the REST client's ``AlyxError``.

Every error the plugin raises on purpose (a broken project folder, a damaged outbox, a
session file that cannot be read, a bad setting, an implausible weight, a cancelled
sync…) is a :class:`PluginError`, each with a message that says what is wrong and what
to do. A caller that reports errors to a person — the command line, a window's status
line — catches ``PluginError`` and :class:`~pybpod_alyx_module.alyx.errors.AlyxError`,
and nothing else reaches the person as a traceback. ``AlyxError`` stays its own root:
the ``alyx`` package is a REST client that imports nothing of the plugin.

The command line's exit code of each is decided in one table,
:data:`pybpod_alyx_module.cli.exit_codes.EXIT_CODE_OF`: the errors here say what
happened, not how a shell should hear it.

Imports nothing, so every layer may import it.
"""


class PluginError(Exception):
    """Something the plugin cannot do, and why (the message is shown as it is)."""


class Cancelled(PluginError):
    """The person stopped what was asked (Cancel at a question): nothing is wrong."""
