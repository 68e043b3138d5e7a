"""What can go wrong with a project folder, each with a message that names the problem.

Every error here is a :class:`ProjectError`, so a caller that reports one (the
command line, the GUI's status line) reports them all; none leaves a traceback.
"""

from __future__ import annotations

from pybpod_alyx_module.errors import PluginError


class ProjectError(PluginError):
    """A folder that is not a PyBpod project, or one PyBpod cannot load."""


class UnsafeProjectPath(ProjectError):
    """A path the sync would touch is a link, or leads outside the project folder."""


class ProjectBusy(ProjectError):
    """Another sync (another process, the GUI or the command line) holds the project."""


class ProjectNotWritable(ProjectError):
    """The project folder cannot be written: read-only, no permission, or a full disk."""


class SaveFailed(ProjectError):
    """Writing the sync's changes failed; the message says what is on disk now."""


class InterruptedSync(ProjectError):
    """An earlier sync was interrupted and its changes have not been completed yet."""
