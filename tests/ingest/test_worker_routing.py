"""How a worker routes a batch to the handlers of its topic filters (pure: no broker, no store)."""

from __future__ import annotations

from datetime import UTC, datetime

from cdm.settings import Settings
from ingest.batch import BatchResult
from ingest.message import InboundMessage
from ingest.worker import IngestWorker, route, topic_handlers


def msg(topic: str) -> InboundMessage:
    return InboundMessage(1, 1, topic, b"{}", datetime.now(UTC))


def test_each_message_goes_to_the_first_matching_handler_and_strays_to_the_readings_path():
    worker = IngestWorker(Settings(database_url="postgresql:///x", county_code="c", _env_file=None))
    seen: dict[str, list[str]] = {"readings": [], "status": []}

    def handler(name: str):
        def store(_conn, messages, _ctx):
            seen[name].extend(m.topic for m in messages)
            return BatchResult(stored=len(messages))

        return store

    worker.handlers = [
        ("cdm/v1/c/devices/+/readings", handler("readings")),
        ("cdm/v1/c/devices/+/status", handler("status")),
    ]
    batch = [
        msg("cdm/v1/c/devices/BP-1/readings"),
        msg("cdm/v1/c/devices/BP-1/status"),
        msg("cdm/v1/c/devices/BP-2/readings"),
        msg("somewhere/else"),
    ]
    for index, messages in route(worker.handlers, batch):
        worker.handlers[index][1](None, messages, None)  # type: ignore[arg-type]
    assert seen["status"] == ["cdm/v1/c/devices/BP-1/status"]
    assert seen["readings"] == ["cdm/v1/c/devices/BP-1/readings", "cdm/v1/c/devices/BP-2/readings", "somewhere/else"]


def test_a_worker_subscribes_to_its_county_s_readings_status_and_heartbeats():
    filters = [f for f, _ in topic_handlers(Settings(county_code="c", _env_file=None))]
    assert filters == ["cdm/v1/c/devices/+/readings", "cdm/v1/c/devices/+/status", "cdm/v1/c/devices/+/heartbeat"]
