"""How every `cdm` process logs: readable lines by default, one JSON object a line with CDM_LOG_FORMAT=json."""

from __future__ import annotations

import logging
import sys

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The fields each JSON line carries (python-json-logger adds any `extra=` given to a log call).
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(process)d %(threadName)s %(message)s"


def configure(level: str) -> None:
    """Log to stderr at `level`, as text until `use_format` says otherwise; quiet the chatty libraries."""
    logging.basicConfig(level=level.upper(), stream=sys.stderr, format=TEXT_FORMAT)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def formatter(log_format: str) -> logging.Formatter:
    """The formatter of CDM_LOG_FORMAT: `text`, or `json` (one object a line: time, level, logger, message…)."""
    if log_format != "json":
        return logging.Formatter(TEXT_FORMAT)
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(
        JSON_FIELDS,
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger", "threadName": "thread"},
        datefmt="%Y-%m-%dT%H:%M:%S%z",
        json_ensure_ascii=False,
    )


def use_format(log_format: str) -> None:
    """Give every handler of the root logger the formatter of CDM_LOG_FORMAT."""
    chosen = formatter(log_format)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(chosen)
