"""Every outbox item's row says why it is where it is and what to do, for the command line and
the GUI alike (one source: ``register.waiting.item_words``)."""

from __future__ import annotations

import time

import pytest

from pybpod_alyx_module.register import ATTENTION, DISCARDED, PENDING, SENT, WITHDRAWN
from pybpod_alyx_module.register.outbox import Item
from pybpod_alyx_module.register.waiting import AFTER_THE_FIX, SENT_BY_ITSELF, item_words


def item(state, last_error=None, fix=None, next_try=0.0):
    return Item(1, "k", "M1 21.5 g", {}, state, {}, 1, 0, 0, next_try, last_error, fix,
                0.0, time.time())  # fmt: skip


@pytest.mark.parametrize("state", [PENDING, DISCARDED, WITHDRAWN])
def test_an_item_that_is_not_moving_never_has_an_empty_why(state):
    why, _ = item_words(item(state))
    assert why


def test_a_pending_item_says_why_it_waits_from_the_best_source_there_is():
    assert item_words(item(PENDING, "502 Bad Gateway")) == ("502 Bad Gateway", SENT_BY_ITSELF)
    assert item_words(item(PENDING), server_error="refused")[0] == "refused"
    assert item_words(item(PENDING), stopped="Not logged in") == ("Not logged in", AFTER_THE_FIX)
    why, _ = item_words(item(PENDING, "502", next_try=time.time() + 3600))
    assert why.startswith("502 (next try at ")


def test_needs_attention_and_sent_items_keep_the_servers_words_and_the_fix():
    assert item_words(item(ATTENTION, "no such user", "create it")) == ("no such user", "create it")
    assert item_words(item(SENT, "no location", "create it")) == ("no location", "create it")
    assert item_words(item(SENT)) == ("", "")
