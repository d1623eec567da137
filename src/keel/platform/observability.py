"""Structured logging (one JSON object per line) and Prometheus metrics."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)
HTTP_REQUESTS = Counter("keel_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=REGISTRY)
HTTP_LATENCY = Histogram("keel_http_request_seconds", "HTTP request latency", ["route"], registry=REGISTRY)
MOVEMENTS = Counter(
    "keel_movements_applied_total", "Stock movements written to the ledger", ["source"], registry=REGISTRY
)
MOVEMENTS_REFUSED = Counter(
    "keel_movement_batches_refused_total", "Movement batches refused", ["reason"], registry=REGISTRY
)
ATP_CHANGES = Counter("keel_availability_changes_total", "Channel availability numbers that changed", registry=REGISTRY)
RESERVATIONS_EXPIRED = Counter("keel_reservations_expired_total", "Reservations released at expiry", registry=REGISTRY)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        payload.update(getattr(record, "fields", {}))
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def configure_logging(level: str = "INFO", as_json: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if as_json else logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    # uvicorn's own loggers (start-up, errors with tracebacks) get the same one-object-per-line format;
    # the server is started with log_config=None so it does not install its plain-text handlers.
    for name in ("keel", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False


def log(logger: logging.Logger, msg: str, **fields: Any) -> None:
    """Log ``msg`` with structured key/value ``fields``."""
    logger.info(msg, extra={"fields": fields})
