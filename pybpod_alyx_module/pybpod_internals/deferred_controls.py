"""A GUI subject's pyforms controls, built when its details are first shown, not with the subject.

Why: every PyBpod 1.8.2 subject is a pyforms window holding eight controls (``Name``,
``Setup``, ``Detach from GUI``, five buttons), each a set of Qt widgets, two of them
parsed from ``.ui`` files: ~6 ms a subject, most of the 30 s PyBpod took to open a
project of 3,000 subjects (and most of the memory a sync of 10,000 held). Only the one
subject shown in the details dock needs them. While :func:`subject_controls_deferred`
holds, ``SubjectWindow.__init__`` gets stand-ins: each keeps what is set on it (the name,
``enabled``, ``changed_event`` …), the name and the setup combo answer from what they
keep, and anything else builds the real control, replays what was set, and hands over.
:func:`build_deferred_controls` (from the subject mixin's ``init_form``, which pyforms
calls before it lays a window out) puts the real controls in place. The subject's three
icons (``QIcon(path)`` reads the file: 0.2 ms each) are shared copies of one per file, and
the settings naming them are read once (each read of confapp's ``conf`` walks its
settings modules with a dozen ``hasattr``: 4 reads a subject, 5 % of an open).

Internal: the module globals ``ControlText``, ``ControlCombo``, ``ControlButton`` and
``ControlCheckBox`` of ``pybpodgui_plugin.models.subject.subject_window`` and ``QIcon`` of
its ``subject_treenode`` and ``subject_uibusy`` (and their ``conf``), and the
``value`` / ``clear`` / ``add_item`` behaviour of pyforms' ``ControlText`` and
``ControlCombo`` (4.901/5), 1.8.2.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable

#: The controls ``SubjectWindow.__init__`` builds, by their name in its module.
_CONTROLS = ("ControlText", "ControlCombo", "ControlButton", "ControlCheckBox")
#: The modules whose ``QIcon(path)`` calls build a subject's icons.
_ICON_MODULES = ("subject_treenode", "subject_uibusy")


class Deferred:
    """A pyforms control not built yet (see the module docstring), or a row's ``QAction``
    (:mod:`.tree_menus`): built by its first use, with what was set on it meanwhile.

    Slots, not a ``__dict__``: 50,000 stand-ins at 10,000 subjects.
    """

    __slots__ = ("__weakref__", "_deferred_build", "_deferred_real", "_deferred_sets")

    def __init__(self, factory: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        object.__setattr__(self, "_deferred_build", (factory, args, kwargs))
        object.__setattr__(self, "_deferred_sets", {})
        object.__setattr__(self, "_deferred_real", None)

    def real(self) -> Any:
        """The control itself, built once, with everything set on the stand-in."""
        control = self._deferred_real
        if control is None:
            factory, args, kwargs = self._deferred_build
            control = factory(*args, **kwargs)
            self._replay(control)
            for name, value in self._deferred_sets.items():
                setattr(control, name, value)
            object.__setattr__(self, "_deferred_real", control)
        return control

    def _replay(self, control: Any) -> None:
        """What the stand-in kept beyond plain attributes (the combo's items)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(getattr(type(self), name, None), property):  # a stand-in's own ``value``
            object.__setattr__(self, name, value)
        elif self._deferred_real is not None:
            setattr(self._deferred_real, name, value)
        else:
            self._deferred_sets[name] = value


class DeferredText(Deferred):
    """A ``ControlText``: its ``value`` is what was set (``str``, ``''`` when nothing was)."""

    __slots__ = ()

    @property
    def value(self) -> str:
        if self._deferred_real is not None:
            return self._deferred_real.value
        value = self._deferred_sets.get("value", self._deferred_build[2].get("default"))
        return "" if value is None else str(value)

    @value.setter
    def value(self, value: Any) -> None:
        if self._deferred_real is not None:
            self._deferred_real.value = value
        else:
            self._deferred_sets["value"] = value


class DeferredCombo(Deferred):
    """A ``ControlCombo``: ``clear``, ``add_item`` and ``value`` as pyforms' do them."""

    __slots__ = ("_deferred_items", "_deferred_value")

    def __init__(self, factory: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        super().__init__(factory, args, kwargs)
        object.__setattr__(self, "_deferred_items", {})  # str(label) -> value, as pyforms
        object.__setattr__(self, "_deferred_value", None)

    def _replay(self, control: Any) -> None:
        for label, value in self._deferred_items.items():
            control.add_item(label, value)
        control.value = self._deferred_value

    def clear(self) -> None:
        if self._deferred_real is not None:
            return self._deferred_real.clear()
        self._deferred_items.clear()
        object.__setattr__(self, "_deferred_value", None)

    def add_item(self, label: Any, value: Any) -> None:
        if self._deferred_real is not None:
            return self._deferred_real.add_item(label, value)
        first = not self._deferred_items
        self._deferred_items[str(label)] = value
        if first:
            object.__setattr__(self, "_deferred_value", value)

    @property
    def value(self) -> Any:
        if self._deferred_real is not None:
            return self._deferred_real.value
        return self._deferred_value

    @value.setter
    def value(self, value: Any) -> None:
        if self._deferred_real is not None:
            self._deferred_real.value = value
            return
        for item in self._deferred_items.values():  # pyforms: an unknown value changes nothing
            if item == value:
                object.__setattr__(self, "_deferred_value", item)


_KINDS: dict[str, type[Deferred]] = {"ControlText": DeferredText, "ControlCombo": DeferredCombo}


def _stand_in(kind: type[Deferred], factory: Callable[..., Any]) -> Callable[..., Deferred]:
    return lambda *args, **kwargs: kind(factory, args, kwargs)


_icons: dict[str, Any] = {}


def _shared_icon(icon_class: type) -> Callable[..., Any]:
    def icon(*args: Any) -> Any:
        if len(args) != 1 or not isinstance(args[0], str):
            return icon_class(*args)
        if args[0] not in _icons:
            _icons[args[0]] = icon_class(args[0])
        return icon_class(_icons[args[0]])  # a copy: Qt shares the pixmaps

    return icon


class _SettingsRead:
    """confapp's ``conf``, each setting read once (only while subjects are built)."""

    def __init__(self, conf: Any) -> None:
        self._conf = conf

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._conf, name)
        setattr(self, name, value)
        return value


#: How many :func:`subject_controls_deferred` hold now (GUI thread only).
_holders = 0


@contextmanager
def subject_controls_deferred() -> Iterator[None]:
    """Meanwhile, a GUI subject built gets stand-ins for its controls (GUI thread only).

    Nested holds share the outer one's patches (a whole open holds once, not per subject).
    """
    global _holders
    if _holders:
        _holders += 1
        try:
            yield
        finally:
            _holders -= 1
        return
    import importlib

    package = "pybpodgui_plugin.models.subject."
    window = importlib.import_module(package + "subject_window")
    patches = [(window, name, _stand_in(_KINDS.get(name, Deferred), getattr(window, name)))
               for name in _CONTROLS]  # fmt: skip
    for module in map(importlib.import_module, [package + name for name in _ICON_MODULES]):
        patches.append((module, "QIcon", _shared_icon(module.QIcon)))
        patches.append((module, "conf", _SettingsRead(module.conf)))
    originals = [(module, name, getattr(module, name)) for module, name, _ in patches]
    for module, name, value in patches:
        setattr(module, name, value)
    _holders = 1
    try:
        yield
    finally:
        _holders = 0
        for module, name, value in originals:
            setattr(module, name, value)


def build_deferred_controls(window: Any) -> None:
    """Put the real controls in place of ``window``'s stand-ins (before pyforms lays it out)."""
    for name, value in list(vars(window).items()):
        if isinstance(value, Deferred):
            setattr(window, name, value.real())
