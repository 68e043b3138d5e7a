"""Default settings of the Alyx plugin, registered with confapp.

A project's ``user_settings.py`` (priority 0) overrides any of these.
Keep the ``ALYX_PLUGIN_`` prefix: users of the 1.x plugin already set the
first three names.

Each setting has a type and a range, written beside it and checked once, when the
settings are read (:mod:`pybpod_alyx_module.plugin_settings`): a value that does not
fit is named with what is expected, never guessed at.
"""

SETTINGS_PRIORITY = 100

#: The Alyx server, as a user types it (with or without a trailing slash or ``/api``);
#: text, empty for none.
ALYX_PLUGIN_ADDRESS = ""
#: The Alyx user name (text); empty means the PyBpod logged-in user's name.
ALYX_PLUGIN_USERNAME = ""
#: Deprecated: a clear-text password. Prefer a saved token or the system keyring.
ALYX_PLUGIN_PASSWORD = ""

#: Seconds to wait for a connection to the server: a number above 0, at most 300.
ALYX_PLUGIN_CONNECT_TIMEOUT = 5.0
#: Seconds to wait for the server to answer once connected: above 0, at most 3600.
ALYX_PLUGIN_READ_TIMEOUT = 60.0
#: How many times an idempotent request is retried on a connection error or a 429/502/503/504:
#: a whole number from 0 to 10.
ALYX_PLUGIN_RETRIES = 3
#: Where saved tokens are kept (a JSON file readable by its owner only): an absolute path,
#: ``~`` allowed; never empty (a relative path would follow the folder PyBpod starts in).
ALYX_PLUGIN_TOKEN_FILE = "~/.pybpod_alyx/tokens.json"
#: The most requests this rig sends Alyx in a minute, whatever the server says (many rigs
#: sending after an outage keep the server's load bounded): a number above 0, at most 6000.
ALYX_PLUGIN_MAX_REQUESTS_PER_MINUTE = 240

# -- registering sessions, weights and water (pybpod_alyx_module.register) ------------------
#: A lab's own names for the values a task reports with ``register_value``, mapped onto the
#: plugin's: e.g. ``{'alyx_water_ml': 'reward_total_ml'}`` (a dict of text to text, its keys
#: among the plugin's names: alyx_water_ml, alyx_weight_g, alyx_n_correct_trials,
#: alyx_narrative).
ALYX_PLUGIN_VALUE_NAMES = {}
#: Setup name -> Alyx location name (a dict of text to text); a setup not listed is looked up
#: under its own name.
ALYX_PLUGIN_LOCATIONS = {}
#: The procedures of every registered session: a list of names (may be empty). One name
#: written alone, ``"Behavior training/tasks"``, is taken as a list of that one name.
ALYX_PLUGIN_PROCEDURES = ["Behavior training/tasks"]
#: The water type of registered water administrations (an Alyx water type's name; not empty).
ALYX_PLUGIN_WATER_TYPE = "Water"
#: The outbox (an SQLite file), an absolute path; empty means ``alyx_outbox.sqlite`` in the
#: project folder.
ALYX_PLUGIN_OUTBOX = ""
#: How many records are sent to Alyx at the same time (kept under the server's throttle):
#: a whole number from 1 to 16.
ALYX_PLUGIN_SEND_WORKERS = 4
#: The rig's time zone, an IANA name such as ``"Europe/Lisbon"``: session files hold the rig's
#: local times. Empty: this computer's own zone.
ALYX_PLUGIN_RIG_TIME_ZONE = ""
#: The Alyx server's ``TIME_ZONE`` setting (an IANA name): Alyx stores times in it.
ALYX_PLUGIN_SERVER_TIME_ZONE = "Europe/London"

# -- registering from the PyBpod GUI (pybpod_alyx_module.gui.registration) -------------------
#: Register every run of a setup with Alyx subjects (queued in the outbox, sent in the
#: background): True or False; ``None``: on when the project has an Alyx user (a user synced
#: from Alyx).
ALYX_PLUGIN_REGISTER_SESSIONS = None
#: Seconds between two tries of the outbox's pending items while PyBpod runs: a number from 1
#: to 86400 (a day).
ALYX_PLUGIN_OUTBOX_RETRY_SECONDS = 60
#: Ask each Alyx subject's weight in a "Weigh before the run" dialog before a run (True/False).
ALYX_PLUGIN_WEIGH_BEFORE_RUN = True
#: The welfare threshold: a weight below this fraction of the reference weight is warned about;
#: a number above 0 and below 1.
ALYX_PLUGIN_WEIGHT_THRESHOLD = 0.8
