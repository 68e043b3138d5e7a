"""The plugin's windows and the glue that runs the sync core from the PyBpod GUI.

Imported lazily by the model mixins (never at PyBpod's start), so that the
GUI stack is touched only when the user opens an Alyx window.
"""
