"""A real ingest worker on a thread of the test's process, connected to the test's broker."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from cdm.settings import Settings
from ingest.worker import IngestWorker


@contextmanager
def running_ingest(settings: Settings, *, connect_s: float = 10.0) -> Iterator[tuple[IngestWorker, threading.Thread]]:
    """The worker and its thread once it has connected; stopped and joined on the way out."""
    stop = threading.Event()
    worker = IngestWorker(settings, stop=stop)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        assert worker.connected.wait(connect_s), "ingest did not connect to the broker"
        yield worker, thread
    finally:
        stop.set()
        thread.join(15)
