"""PyBpod Alyx Module: connect the PyBpod GUI to an Alyx lab database.

Importing the package is cheap and touches no Qt: it only registers the
plugin's settings with confapp so that ``ALYX_PLUGIN_*`` defaults exist and a
project's ``user_settings.py`` can override them.
"""

import logging

__version__ = "2.0.0.dev0"

logger = logging.getLogger(__name__)

try:
    from confapp import conf
except ImportError:  # the REST client alone does not need confapp
    logger.debug("confapp is not installed; ALYX_PLUGIN_* settings are not registered")
else:
    conf += "pybpod_alyx_module.settings"
