"""Times on the way to Alyx: a rig's wall clock to the wall clock the server stores.

PyBpod writes a session's start and end as the rig's naive wall-clock time. The Alyx that
labs run (``TIME_ZONE = 'Europe/London'``, ``USE_TZ = False``) stores a naive time as a
wall-clock time of *its* zone, and reads it back in that zone: a time that does not exist
there (01:45 on the last Sunday of March in London) comes back an hour later, so a search
by the time sent never finds it again. So the plugin never sends a rig's reading as is:

1. the rig's naive time is read in the rig's zone (``ALYX_PLUGIN_RIG_TIME_ZONE``; empty: the
   computer's own zone), giving an instant;
2. that instant is written as the wall-clock time of the server's zone
   (``ALYX_PLUGIN_SERVER_TIME_ZONE``), without a zone, to the second.

A time made this way exists in the server's zone (an instant never falls in a zone's
gap), so the server stores and returns it unchanged. A time that occurs twice there (the
autumn hour) is sent and read back as the same text, which is all the plugin compares.

A rig reading that does not exist on the rig (its clock cannot show it; a clock set by
hand might) or exists twice there is read with ``fold=0`` (PEP 495), deterministically:
an hour that occurs twice is taken as its first occurrence (summer time), and a reading
in the spring gap with the offset in force just before the gap (so 01:45 in London's gap
is the instant the server itself makes of it, 02:45 summer time).

Examples
--------
>>> zones = ServerTimes(rig_zone="UTC", server_zone="Europe/London")
>>> zones.sent(datetime.datetime(2031, 7, 1, 8, 30, 15, 999))
'2031-07-01T09:30:15'
>>> zones.same_time("2031-07-01T08:30:15Z", "2031-07-01T09:30:15")
True
"""

from __future__ import annotations

import calendar
import datetime
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pybpod_alyx_module.errors import PluginError

if TYPE_CHECKING:
    from .options import RegisterOptions

#: The zone of the Alyx that labs run (cortex-lab's deploy settings), unless set otherwise.
DEFAULT_SERVER_ZONE = "Europe/London"
#: The setting each zone comes from, named in every message about it.
RIG_SETTING = "ALYX_PLUGIN_RIG_TIME_ZONE"
SERVER_SETTING = "ALYX_PLUGIN_SERVER_TIME_ZONE"
DAY = 24 * 3600


class TimeZoneError(PluginError, ValueError):
    """A time zone setting names no zone this computer knows."""


@dataclass(frozen=True)
class ServerTimes:
    """The rig's zone and the server's zone, and the conversions between them.

    Parameters
    ----------
    rig_zone
        An IANA zone name (``'Europe/London'``, ``'UTC'``), or ``''`` for this computer's
        own zone (what its clock shows).
    server_zone
        The Alyx server's ``TIME_ZONE``.
    """

    rig_zone: str = ""
    server_zone: str = DEFAULT_SERVER_ZONE

    @classmethod
    def of(cls, options: RegisterOptions) -> ServerTimes:
        """The zones of the registering options, checked (raises :class:`TimeZoneError`)."""
        times = cls(options.rig_time_zone, options.server_time_zone or DEFAULT_SERVER_ZONE)
        times.check()
        return times

    def check(self) -> None:
        """Raise :class:`TimeZoneError` unless both zones are known here."""
        if self.rig_zone:
            _zone(self.rig_zone, RIG_SETTING)
        _zone(self.server_zone, SERVER_SETTING)

    def to_server(self, rig_time: datetime.datetime) -> datetime.datetime:
        """The server's naive wall-clock time of a rig's naive time, to the second."""
        naive = rig_time.replace(tzinfo=None, microsecond=0, fold=0)
        if self.rig_zone:
            moment = naive.replace(tzinfo=_zone(self.rig_zone, RIG_SETTING))
        else:
            moment = _local_moment(naive)
        # Through UTC: astimezone() to the same zone object would keep a reading in its gap.
        instant = moment.astimezone(datetime.timezone.utc)
        return instant.astimezone(_zone(self.server_zone, SERVER_SETTING)).replace(tzinfo=None)

    def sent(self, rig_time: datetime.datetime) -> str:
        """What goes to Alyx for a rig's time: ISO 8601, seconds, no zone."""
        return self.to_server(rig_time).isoformat()

    def server_wall(self, text: str) -> datetime.datetime:
        """A time as Alyx answered it, as the server's naive wall-clock time.

        A naive answer is the server's wall clock already (``USE_TZ = False``); an answer
        with ``Z`` or an offset (``USE_TZ = True``) names an instant, shown here on the
        server's clock. Raises ``ValueError`` for text that is not an ISO 8601 time.
        """
        if not isinstance(text, str):
            raise ValueError(f"not a time: {type(text).__name__}")
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.tzinfo is not None:
            instant = moment.astimezone(datetime.timezone.utc)
            moment = instant.astimezone(_zone(self.server_zone, SERVER_SETTING))
        return moment.replace(tzinfo=None, fold=0)

    def same_time(self, answered: object, sent: str) -> bool:
        """True if Alyx's ``answered`` time is the ``sent`` one (False for anything else)."""
        try:
            return self.server_wall(answered) == datetime.datetime.fromisoformat(sent)  # type: ignore[arg-type]
        except (ValueError, TypeError, OverflowError):
            return False

    def describe(self) -> str:
        """The zones in words, for a message: ``rig: this computer's zone; server: Europe/London``."""
        rig = self.rig_zone or "this computer's zone"
        return f"rig {rig} ({RIG_SETTING}), server {self.server_zone} ({SERVER_SETTING})"


def _local_moment(naive: datetime.datetime) -> datetime.datetime:
    """A naive reading of this computer's clock as an instant, by the rule of ``fold=0``.

    Python's own ``astimezone()`` reads a time in the spring gap with the offset *after*
    the gap, unlike ``zoneinfo``; this reads every zone alike. The offsets in force a day
    before, at and a day after the reading (``tm_gmtoff``, on Windows too) are tried: the
    earliest instant that shows this reading is taken, and a reading no instant shows (a
    gap) takes the offset of the day before.
    """
    as_if_utc = calendar.timegm(naive.timetuple())
    try:
        offsets = [time.localtime(as_if_utc + shift).tm_gmtoff for shift in (-DAY, 0, DAY)]
        showing = sorted(
            as_if_utc - offset
            for offset in set(offsets)
            if time.localtime(as_if_utc - offset).tm_gmtoff == offset
        )
    except (OSError, OverflowError, ValueError):  # a time the platform cannot convert
        return naive.astimezone()
    instant = showing[0] if showing else as_if_utc - offsets[0]
    return datetime.datetime.fromtimestamp(instant, datetime.timezone.utc)


@lru_cache(maxsize=64)
def _zone(name: str, setting: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise TimeZoneError(
            f"{setting} = {name!r} is not a time zone known here ({exc}): use an IANA name such "
            "as 'Europe/London' or 'UTC' (on Windows, install the 'tzdata' package)"
        ) from None
