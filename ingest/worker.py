"""The ingest process: a paho-mqtt subscriber feeding a writer thread that commits batches, then acknowledges.

paho's network thread only puts messages on a bounded queue (it must never block on the database). The writer
takes up to CDM_INGEST_BATCH_SIZE messages or whatever arrived within CDM_INGEST_FLUSH_MS, commits them in one
transaction, and only then sends each PUBACK. A worker killed at any instant leaves its unacknowledged messages
with the broker, which redelivers them to the persistent session; the idempotent insert drops the repeats.
"""

from __future__ import annotations

import functools
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.matcher import MQTTMatcher
from tenacity import retry, retry_if_exception_type, stop_never, wait_exponential

from cdm import db
from cdm.metrics import observe_batch
from cdm.mqtt import configure, endpoint
from cdm.payload import device_filters, readings_filter
from cdm.privacy import redact
from cdm.settings import Settings
from ingest.batch import BatchResult, IngestContext, process_batch, quarantine_one
from ingest.message import InboundMessage
from ingest.status.service import lock_meters, store_device_messages

log = logging.getLogger(__name__)

KEEPALIVE_S = 30
SLOW_BATCH_S = 0.5  # worth a warning: at the default flush interval a batch should take a few tens of ms
RECONNECT_MAX_S = 30  # meters keep publishing into the broker's queue meanwhile; no need to hammer it
CATCH_ALL_FILTER = "cdm/#"  # every topic of this system: another county's or a malformed one is kept, not lost
# A store that went away is tried again after 0.2 s, doubling up to this: a failover to the standby takes a few
# seconds, and ingest should be back within a second or two of it (a retry is one connection attempt).
STORE_RETRY_MAX_S = 2.0

# Stores one kind of message inside the batch's transaction; the worker commits, then acknowledges.
Handler = Callable[[psycopg.Connection, Sequence[InboundMessage], IngestContext], BatchResult]


def _store_readings(conn: psycopg.Connection, messages: Sequence[InboundMessage], ctx: IngestContext) -> BatchResult:
    return process_batch(conn, messages, ctx=ctx)


def _device_handler(county_code: str) -> Handler:
    def store(conn: psycopg.Connection, messages: Sequence[InboundMessage], ctx: IngestContext) -> BatchResult:
        rest, quarantined = store_device_messages(conn, messages, county_code=county_code)
        return BatchResult(quarantined=quarantined) + (process_batch(conn, rest, ctx=ctx) if rest else BatchResult())

    return store


def topic_handlers(settings: Settings) -> list[tuple[str, Handler]]:
    """The topic filters a worker subscribes to, each with what stores its messages (first match wins): the
    meters' readings, then their status (retained, last wills) and heartbeats (ingest.status.service).

    A message matching none (cannot happen unless the broker misroutes) goes to the readings path, which keeps it
    in quarantine as `bad_topic`.
    """
    devices = _device_handler(settings.county_code)
    return [(readings_filter(settings.county_code), _store_readings)] + [
        (f, devices) for f in device_filters(settings.county_code)
    ]


def route(
    handlers: Sequence[tuple[str, Handler]], batch: Sequence[InboundMessage]
) -> list[tuple[int, list[InboundMessage]]]:
    """The batch split by the first handler whose filter matches each topic (strays to the first), in handler order."""
    matcher = _matcher(tuple(f for f, _ in handlers))
    groups: dict[int, list[InboundMessage]] = {}
    for msg in batch:
        index = min(matcher.iter_match(msg.topic), default=0)
        groups.setdefault(index, []).append(msg)
    return sorted(groups.items())


@functools.lru_cache(maxsize=8)
def _matcher(filters: tuple[str, ...]) -> MQTTMatcher:
    """paho's topic trie over the filters (value: the filter's index), built once: `topic_matches_sub` builds one
    per call, a few per cent of a batch's time."""
    matcher = MQTTMatcher()
    for index in reversed(range(len(filters))):  # a filter listed twice keeps its first index
        matcher[filters[index]] = index
    return matcher


def outcomes(result: BatchResult) -> dict[str, int]:
    """A batch's messages by the outcome label of `cdm_ingest_readings_total` (each message counted once)."""
    return {
        "stored": result.stored - result.unattributed,
        "unattributed": result.unattributed,
        "duplicate": result.duplicates,
        "quarantined": result.quarantined,
    }


def subscription(settings: Settings, topic_filter: str) -> str:
    """The filter as subscribed: `$share/<group>/<filter>` when workers share the stream, else the filter."""
    group = settings.ingest_share_group
    return f"$share/{group}/{topic_filter}" if group else topic_filter


class IngestWorker:
    """Subscribe, batch, commit, acknowledge — until `stop` is set."""

    def __init__(self, settings: Settings, *, stop: threading.Event | None = None) -> None:
        if not settings.database_url:
            raise ValueError("CDM_DATABASE_URL is not set")
        self.settings = settings
        self.stop = stop or threading.Event()
        self.totals = BatchResult()
        self._queue: queue.Queue[InboundMessage] = queue.Queue(maxsize=settings.ingest_queue_max)
        self._ctx = IngestContext.from_settings(settings)
        self.handlers = topic_handlers(settings)
        self._generations = itertools.count(1)
        self._catch_all = settings.ingest_catch_all
        self._catch_all_mid: dict[int, int] = {}  # per broker: the mid of its catch-all SUBSCRIBE
        self._conn: psycopg.Connection | None = None
        # One client per broker (a second one when CDM_MQTT_SECONDARY_URL is set: meters fall back to it), each with
        # its session and the connection generation its messages arrived on; the same reading heard from both is
        # stored once (its key).
        self._clients = [self._make_client(index, url) for index, url in enumerate(settings.mqtt_urls)]
        self._current = [0] * len(self._clients)
        self._client = self._clients[0]
        self.connected = threading.Event()  # connected to the first broker

    def _make_client(self, index: int, url: str) -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.settings.ingest_client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
            manual_ack=True,
            userdata=index,
        )
        configure(client, self.settings, url=url)
        client.reconnect_delay_set(1, RECONNECT_MAX_S)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def _on_connect(self, client: mqtt.Client, index: int, _flags: object, reason: object, _props: object) -> None:
        if getattr(reason, "is_failure", False):
            log.error("broker refused the connection: %s", reason)
            return
        self._current[index] = next(self._generations)
        filters = self._subscribe(client, index)  # again on every reconnect
        if index == 0:
            self.connected.set()
        log.info(
            "connected to %s:%s as %s, subscribed to %s",
            client.host,
            client.port,
            self.settings.ingest_client_id,
            ", ".join(filters),
        )

    def _subscribe(self, client: mqtt.Client, index: int) -> list[str]:
        """Every topic under cdm/ when the settings ask for it (strays are kept as other_county / bad_topic), else
        the county's meter topics; the filters subscribed."""
        specific = [subscription(self.settings, f) for f, _ in self.handlers]
        if not self._catch_all:
            client.subscribe([(f, 1) for f in specific])
            return specific
        catch_all = subscription(self.settings, CATCH_ALL_FILTER)
        _, self._catch_all_mid[index] = client.subscribe([(catch_all, 1)])
        # A persistent session from before may still hold the narrower filters, which would deliver each reading
        # twice; dropped after the wider one is in place, so nothing falls between the two.
        client.unsubscribe(specific)
        return [catch_all]

    def _on_subscribe(self, client: mqtt.Client, index: int, mid: int, reason_codes: list[Any], _props: object) -> None:
        if mid == self._catch_all_mid.get(index) and any(getattr(rc, "is_failure", False) for rc in reason_codes):
            log.warning("the broker does not let this account read all of cdm/; subscribing to the county's topics")
            self._catch_all = False
            self._subscribe(client, index)

    def _on_disconnect(self, client: mqtt.Client, index: int, _flags: object, reason: object, _props: object) -> None:
        if index == 0:
            self.connected.clear()
        if not self.stop.is_set():
            log.warning("lost the broker %s:%s (%s); reconnecting", client.host, client.port, reason)

    def _on_message(self, _client: mqtt.Client, index: int, msg: mqtt.MQTTMessage) -> None:
        try:
            received, generation = datetime.now(UTC), self._current[index]
            payload = bytes(msg.payload)
            self._queue.put(InboundMessage(msg.mid, msg.qos, msg.topic, payload, received, generation, index))
        except Exception:  # nothing may escape into paho's network loop
            log.exception("could not queue a message")

    def run(self) -> None:
        """Serve until `stop` is set; on stop, commit and acknowledge what was already taken, then disconnect."""
        for client, url in zip(self._clients, self.settings.mqtt_urls, strict=True):
            host, port, _ = endpoint(url)
            client.connect_async(host, port, keepalive=KEEPALIVE_S)
            client.loop_start()
        try:
            while not self.stop.is_set():
                batch = self._take_batch()
                if batch:
                    self._commit_and_ack(batch)
        finally:
            for client in self._clients:
                client.disconnect()
                client.loop_stop()
            if self._conn is not None:
                self._conn.close()
            log.info("ingest stopped: %s", self.totals)

    def _take_batch(self) -> list[InboundMessage]:
        try:
            first = self._queue.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.settings.ingest_flush_ms / 1000
        while len(batch) < self.settings.ingest_batch_size:
            remaining = deadline - time.monotonic()
            try:
                batch.append(self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _commit_and_ack(self, batch: list[InboundMessage]) -> None:
        started = time.monotonic()
        result = self._commit(batch)
        self.totals += result
        took = time.monotonic() - started
        observe_batch(outcomes=outcomes(result), alerts=result.alerts, seconds=took, queue_depth=self._queue.qsize())
        if took > SLOW_BATCH_S:
            log.warning("slow batch: %s messages took %.0f ms", len(batch), took * 1000)
        for msg in batch:
            # A message from an earlier connection has been (or will be) redelivered under a new id; its old id
            # may now name another message, so it is not acknowledged here. The redelivery is a duplicate.
            if msg.qos > 0 and msg.generation == self._current[msg.broker]:
                self._clients[msg.broker].ack(msg.mid, msg.qos)

    @retry(
        retry=retry_if_exception_type(psycopg.OperationalError),
        wait=wait_exponential(0.2, max=STORE_RETRY_MAX_S),
        stop=stop_never,
        reraise=True,
        before_sleep=lambda state: log.warning(
            "store unavailable (%s); retrying", state.outcome and state.outcome.exception()
        ),
    )
    def _commit(self, batch: list[InboundMessage]) -> BatchResult:
        conn = self._connection()
        try:
            with conn.transaction():
                return self._store(conn, batch)
        except psycopg.OperationalError:
            self._drop_connection()
            raise
        except Exception as exc:  # the store refused the batch, or one message broke it: one by one, nothing lost
            log.error("batch of %s refused (%s); storing one by one", len(batch), redact(str(exc))[:300])
            return self._commit_one_by_one(batch)

    def _commit_one_by_one(self, batch: list[InboundMessage]) -> BatchResult:
        conn = self._connection()
        totals = BatchResult()
        for msg in batch:
            try:
                with conn.transaction():
                    totals += self._store(conn, [msg])
            except psycopg.OperationalError:
                self._drop_connection()
                raise
            except Exception as exc:  # kept with the reason; the worker goes on with the next message
                with conn.transaction():
                    quarantine_one(conn, msg, reason="store_error", detail=f"{type(exc).__name__}: {exc}")
                totals += BatchResult(quarantined=1)
        return totals

    def _store(self, conn: psycopg.Connection, batch: Sequence[InboundMessage]) -> BatchResult:
        """Hand each message to the first handler whose filter matches its topic, all in one transaction.

        A batch with status or heartbeat messages first locks all its meters in id order (ingest.status.service): those
        update meters early and the readings path late, and two workers doing that in different orders could
        deadlock. A batch of readings alone takes no such lock, so workers sharing the stream do not queue behind
        each other for the meters they both hear from.
        """
        groups = route(self.handlers, batch)
        if any(index > 0 for index, _ in groups):  # handler 0 is the readings path (topic_handlers)
            lock_meters(conn, batch)
        totals = BatchResult()
        for index, messages in groups:
            totals += self.handlers[index][1](conn, messages, self._ctx)
        return totals

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = db.connect(self.settings.database_url or "", app="cdm-ingest")
        return self._conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


def run(settings: Settings, *, stop: threading.Event | None = None) -> BatchResult:
    """Run one ingest worker until `stop` is set; return what it stored."""
    worker = IngestWorker(settings, stop=stop)
    worker.run()
    return worker.totals
