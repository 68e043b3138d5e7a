"""PyBpod Alyx Module: connect the PyBpod GUI to an Alyx lab database.

Importing the package is cheap and touches no Qt: it only registers the
plugin's settings with confapp so that ``ALYX_PLUGIN_*`` defaults exist and a
project's ``user_settings.py`` can override them.
"""

import logging

__version__ = "2.0.0.dev0"

logger = logging.getLogger(__name__)


def _ignore_repeated_listing(plugins: object) -> None:
    """Drop later copies of this plugin from PyBpod's plugin list, in place.

    Listed twice in ``GENERIC_EDITOR_PLUGINS_LIST``, a plugin crashed PyBpod at
    start ("duplicate base class", 1.x bug 15). PyBpod imports the list's names
    one after the other, so this runs at the first copy, before the others are reached.
    """
    if not isinstance(plugins, list) or plugins.count(__name__) < 2:
        return
    first = plugins.index(__name__)
    plugins[first + 1 :] = [name for name in plugins[first + 1 :] if name != __name__]
    logger.warning("'%s' is listed more than once in GENERIC_EDITOR_PLUGINS_LIST; "
                   "using it once", __name__)  # fmt: skip


try:
    from confapp import conf
except ImportError:  # the REST client alone does not need confapp
    logger.debug("confapp is not installed; ALYX_PLUGIN_* settings are not registered")
else:
    conf += "pybpod_alyx_module.settings"
    _ignore_repeated_listing(getattr(conf, "GENERIC_EDITOR_PLUGINS_LIST", None))
