"""Structured logs: one JSON object per line, with the structured fields beside the message."""

from __future__ import annotations

import json
import logging

import pytest

from keel.platform.observability import configure_logging, log


def test_keel_logs_are_one_json_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", as_json=True)
    log(logging.getLogger("keel.test"), "reservations expired", count=3)
    logging.getLogger("keel.test").debug("not at INFO")
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert {k: record[k] for k in ("level", "logger", "msg", "count")} == {
        "level": "info",
        "logger": "keel.test",
        "msg": "reservations expired",
        "count": 3,
    }


def test_uvicorn_errors_use_the_same_format(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", as_json=True)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("uvicorn.error").exception("request failed")
    record = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert (record["logger"], record["level"], record["msg"]) == ("uvicorn.error", "error", "request failed")
    assert "RuntimeError: boom" in record["exc"]
