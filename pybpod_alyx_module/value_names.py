"""The names of the values a task reports for the plugin, with ``bpod.register_value``.

A leaf that imports nothing: the settings door checks ``ALYX_PLUGIN_VALUE_NAMES`` against
these names (:mod:`pybpod_alyx_module.plugin_settings`), and registering reads the values
under them (:mod:`pybpod_alyx_module.register.values`).
"""

WATER_ML = "alyx_water_ml"
WEIGHT_G = "alyx_weight_g"
N_CORRECT_TRIALS = "alyx_n_correct_trials"
NARRATIVE = "alyx_narrative"

#: Every name the plugin reads, with what it means (for messages and the user guide).
REPORTED_VALUES = {
    WATER_ML: "water given during the session, in millilitres",
    WEIGHT_G: "the subject's weight, in grams",
    N_CORRECT_TRIALS: "the number of correct trials",
    NARRATIVE: "a free-text note for the session",
}
