"""Default settings of the Alyx plugin, registered with confapp.

A project's ``user_settings.py`` (priority 0) overrides any of these.
Keep the ``ALYX_PLUGIN_`` prefix: users of the 1.x plugin already set the
first three names.
"""

SETTINGS_PRIORITY = 100

#: The Alyx server, as a user types it (with or without a trailing slash or ``/api``).
ALYX_PLUGIN_ADDRESS = ""
#: The Alyx user name; empty means the PyBpod logged-in user's name.
ALYX_PLUGIN_USERNAME = ""
#: Deprecated: a clear-text password. Prefer a saved token or the system keyring.
ALYX_PLUGIN_PASSWORD = ""

#: Seconds to wait for a connection to the server.
ALYX_PLUGIN_CONNECT_TIMEOUT = 5.0
#: Seconds to wait for the server to answer once connected.
ALYX_PLUGIN_READ_TIMEOUT = 60.0
#: How many times an idempotent request is retried on a connection error or a 429/502/503/504.
ALYX_PLUGIN_RETRIES = 3
#: Where saved tokens are kept (a JSON file readable by its owner only).
ALYX_PLUGIN_TOKEN_FILE = "~/.pybpod_alyx/tokens.json"

# -- registering sessions, weights and water (pybpod_alyx_module.register) ------------------
#: A lab's own names for the values a task reports with ``register_value``, mapped onto the
#: plugin's: e.g. ``{'alyx_water_ml': 'reward_total_ml'}``.
ALYX_PLUGIN_VALUE_NAMES = {}
#: Setup name -> Alyx location name; a setup not listed is looked up under its own name.
ALYX_PLUGIN_LOCATIONS = {}
#: The procedures of every registered session.
ALYX_PLUGIN_PROCEDURES = ["Behavior training/tasks"]
#: The water type of registered water administrations (an Alyx water type's name).
ALYX_PLUGIN_WATER_TYPE = "Water"
#: The outbox (an SQLite file); empty means ``alyx_outbox.sqlite`` in the project folder.
ALYX_PLUGIN_OUTBOX = ""
#: How many records are sent to Alyx at the same time (kept under the server's throttle).
ALYX_PLUGIN_SEND_WORKERS = 4

# -- registering from the PyBpod GUI (pybpod_alyx_module.gui.registration) -------------------
#: Register every run of a setup with Alyx subjects (queued in the outbox, sent in the
#: background). ``None``: on when the project has an Alyx user (a user synced from Alyx).
ALYX_PLUGIN_REGISTER_SESSIONS = None
#: Seconds between two tries of the outbox's pending items while PyBpod runs.
ALYX_PLUGIN_OUTBOX_RETRY_SECONDS = 60
#: Ask each Alyx subject's weight in a "Weigh before the run" dialog before a run.
ALYX_PLUGIN_WEIGH_BEFORE_RUN = True
#: The welfare threshold: a weight below this fraction of the reference weight is warned about.
ALYX_PLUGIN_WEIGHT_THRESHOLD = 0.8
