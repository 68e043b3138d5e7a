"""The demo rig's task: a PyBpod task that runs without a Bpod board.

``scripts/demo`` copies this file into the demo project as the task ``demo_task``. PyBpod
runs it as it runs any task (the setup's Run: a ``python`` subprocess in the session folder,
whose output the GUI reads), but instead of ``Bpod()`` talking to a board over a serial
port, it writes the session through pybpodapi's own ``Session`` and message classes, with
the values PyBpod wrote into the session folder's ``user_settings.py`` (read through
confapp): the session file is the one a real Bpod protocol writes, rows for ten trials,
and the values the Alyx plugin registers (``alyx_water_ml``, ``alyx_n_correct_trials``).
The trials' outcomes come from a generator seeded by the session's name.

A real protocol reports the same values with ``bpod.register_value(name, value)``.
"""

import datetime
import os
import random
import time

import pybpodapi
from confapp import conf
from pybpodapi.com.messaging.end_trial import EndTrial
from pybpodapi.com.messaging.session_info import SessionInfo
from pybpodapi.com.messaging.trial import Trial
from pybpodapi.com.messaging.value import ValueMessage
from pybpodapi.session import Session

TRIALS = 10
SECONDS_PER_TRIAL = 0.3
REWARD_ML = 0.05  # per correct trial

session = Session(os.path.join(conf.PYBPOD_SESSION_PATH, conf.PYBPOD_SESSION + ".csv"))
session += SessionInfo(Session.INFO_SERIAL_PORT, conf.PYBPOD_SERIAL_PORT)
session += SessionInfo(Session.INFO_PROTOCOL_NAME, conf.PYBPOD_PROTOCOL)
session += SessionInfo(Session.INFO_CREATOR_NAME, conf.PYBPOD_CREATOR)
session += SessionInfo(Session.INFO_PROJECT_NAME, conf.PYBPOD_PROJECT)
session += SessionInfo(Session.INFO_EXPERIMENT_NAME, conf.PYBPOD_EXPERIMENT)
session += SessionInfo(Session.INFO_BOARD_NAME, conf.PYBPOD_BOARD)
session += SessionInfo(Session.INFO_SETUP_NAME, conf.PYBPOD_SETUP)
for subject in conf.PYBPOD_SUBJECTS:
    session += SessionInfo(Session.INFO_SUBJECT_NAME, subject)
session += SessionInfo(Session.INFO_BPODAPI_VERSION, pybpodapi.__version__)
session += SessionInfo(Session.INFO_SESSION_NAME, conf.PYBPOD_SESSION)
session += SessionInfo(Session.INFO_SESSION_STARTED, datetime.datetime.now())

outcomes = random.Random(conf.PYBPOD_SESSION)
correct = 0
for _ in range(TRIALS):
    session += Trial()
    time.sleep(SECONDS_PER_TRIAL)
    correct += outcomes.random() < 0.7
    session += EndTrial("The trial ended")

session += ValueMessage("alyx_water_ml", round(correct * REWARD_ML, 3))
session += ValueMessage("alyx_n_correct_trials", correct)
session += SessionInfo(Session.INFO_SESSION_ENDED, datetime.datetime.now())
del session
