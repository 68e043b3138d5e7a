"""``pybpod-alyx``: the plugin's sync, headless, for rigs without a screen and for scripts."""
