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
"""

from .dependencies import report_missing_dependencies

report_missing_dependencies()
