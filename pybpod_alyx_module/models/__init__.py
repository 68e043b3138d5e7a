"""The plugin's model mixins, which PyBpod composes into its own classes.

PyBpod's ``PluginsFinder`` builds each GUI model class from the plugins listed
in ``GENERIC_EDITOR_PLUGINS_LIST``: for ``Subject`` it imports
``<plugin>.models.subject`` and takes its ``Subject``, and so on. This package
exports three plain ``object`` mixins:

* ``models.project.Projects`` — the projects container: adds ``Sync to Alyx``
  to each project's menu and restores the Alyx login of a reopened project;
* ``models.subject.Subject`` — ``Alyx details``, the read-only name, the Alyx
  fields in ``toJSON()``;
* ``models.user.User`` — keeps the ``ALYX`` connection across a reload.

Why no ``models.project.Project``: see :mod:`pybpod_alyx_module.models.project`.

Every mixin module imports only the standard library at module level; the
REST client, the sync core and the windows are imported when first used. So
the mixins always load, and a missing dependency (``requests`` …) is reported
here, in the log, and again when the user clicks ``Sync to Alyx`` — not
swallowed by PyBpod's silent plugin finder (1.x bug 1).

The plugin's log records go to PyBpod's console and ``app.log``, as the session-history
plugin's do; this package is imported by PyBpod only, so the command line keeps its own
logging.
"""

import logging

from pybpod_alyx_module.pybpod_internals import setup_plugin_logging

from .dependencies import report_missing_dependencies

try:
    setup_plugin_logging("pybpod_alyx_module")
except Exception:  # loggingbootstrap or confapp missing: records still reach stderr
    logging.getLogger(__name__).warning("Could not attach PyBpod's log handlers", exc_info=True)
report_missing_dependencies()
