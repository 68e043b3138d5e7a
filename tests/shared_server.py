"""What a test may do to the tests' one shared Alyx server."""

from __future__ import annotations

import pytest


def changes_the_shared_server(request: pytest.FixtureRequest) -> None:
    """Refuse a test that changes the shared server's seeded records unless it runs alone.

    Why: the parallel phase runs two files at once against one server; a test beside it
    that syncs the same user's subjects twice would meet the change between its two syncs
    (a question in the GUI, exit 6 on the command line). Such a test is marked ``serial``.
    """
    if request.node.get_closest_marker("serial") is None:
        pytest.fail(
            f"{request.node.nodeid} changes the shared server's seeded records: mark it "
            "@pytest.mark.serial so that no other test sees the change"
        )
