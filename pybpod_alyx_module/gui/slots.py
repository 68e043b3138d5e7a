"""Qt slots that never take PyBpod down: an error is caught, logged (to PyBpod's app.log) and shown.

PyQt5 aborts the whole application when an exception escapes a slot (a button's
``clicked``, a ``QTimer``'s ``timeout``, a menu action) unless someone installed an
``excepthook``. Every slot of the plugin's windows is therefore wrapped by
:func:`guarded_slot`: the error goes to the log with its traceback, and to the user
through the window's ``show_error`` (its status line), or a critical dialog.
"""

from __future__ import annotations

import functools
import inspect
import logging
from typing import Any, Callable, TypeVar

logger = logging.getLogger(__name__)

Slot = TypeVar("Slot", bound=Callable[..., Any])


def guarded_slot(method: Slot) -> Slot:
    """Decorate a window method used as a Qt slot or callback (see the module docstring).

    Qt passes a slot as many arguments as its signal has (``clicked`` gives ``checked``)
    unless the slot takes fewer: extra ones are dropped here, as PyQt would.
    """
    parameters = inspect.signature(method).parameters.values()
    variadic = any(p.kind is p.VAR_POSITIONAL for p in parameters)
    positional = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in parameters)

    @functools.wraps(method)
    def slot(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not variadic:
            args = args[: positional - 1]
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            report_error(self, f"{type(self).__name__}.{method.__name__}", exc)
            return None

    return slot  # type: ignore[return-value]


def report_error(widget: Any, where: str, error: BaseException) -> None:
    """Log ``error`` with its traceback, then show it in ``widget`` without raising again."""
    logger.error("The Alyx plugin failed in %s", where, exc_info=error)
    try:
        show = getattr(widget, "show_error", None)
        if show is not None:
            show(error)
        else:
            widget.critical(f"The Alyx plugin failed: {error}", "Alyx plugin")
    except Exception:
        logger.exception("The Alyx plugin could not show an error")
