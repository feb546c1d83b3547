"""A few of the county's meters on connections of their own (device_sim.sim_meter.SimMeter), as in the field:
a retained online status on connect, heartbeats with battery and signal, and some that lose power mid-run so
the broker publishes their last will and the screens show them offline."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from cdm.settings import Settings
from device_sim.sim_meter import SimMeter

log = logging.getLogger(__name__)

CLOSE_TIMEOUT_S = 10.0  # for the whole fleet's goodbyes, not each meter's


class Fleet:
    """`start()` connects every meter; `vanish(n)` cuts the power of the first n; `close()` says offline."""

    def __init__(self, settings: Settings, uids: Sequence[str], *, heartbeat_s: float) -> None:
        self._meters = [SimMeter(settings, uid=uid, heartbeat_s=heartbeat_s) for uid in uids]
        self._vanished: list[SimMeter] = []

    def start(self) -> Fleet:
        """Connect each meter (one that cannot connect is logged and left out)."""
        connected = []
        for meter in self._meters:
            try:
                connected.append(meter.connect())
            except Exception:  # one meter's failure must not stop the demo
                log.exception("meter %s could not connect", meter.uid)
        self._meters = connected
        return self

    def vanish(self, count: int) -> list[str]:
        """Cut the power of `count` meters (no DISCONNECT: the broker sends their last will); their ids."""
        gone, self._meters = self._meters[:count], self._meters[count:]
        for meter in gone:
            meter.vanish()
        self._vanished.extend(gone)
        return [m.uid for m in gone]

    def close(self, *, timeout: float = CLOSE_TIMEOUT_S) -> dict[str, int]:
        """Close the meters still on the air, all within `timeout` seconds (a broker already gone must not hold
        the demo's exit for a minute a meter); how many were on the air and how many vanished."""
        deadline = time.monotonic() + timeout
        for meter in self._meters:
            try:
                meter.close(timeout=max(0.0, deadline - time.monotonic()))
            except Exception:  # closing is best effort at the end of a run
                log.exception("meter %s did not close cleanly", meter.uid)
        return {"status_meters": len(self._meters) + len(self._vanished), "vanished": len(self._vanished)}
