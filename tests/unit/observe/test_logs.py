"""Log configuration: JSON lines carrying ``extra=`` fields and the bound correlation
context, text for a terminal, and settings that refuse what they do not know."""

from __future__ import annotations

import io
import json
import logging

import pytest

from gateway.config import ConfigError
from gateway.observe.context import bind
from gateway.observe.logs import configure, log_format, log_level


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def restore_logging():
    root, ours = logging.getLogger(), logging.getLogger("gateway")
    saved = (list(root.handlers), root.level, ours.level)
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    ours.setLevel(saved[2])


def test_json_lines_carry_extra_fields_and_the_bound_context(restore_logging):
    out = io.StringIO()
    assert configure("worker", {"GATEWAY_LOG_FORMAT": "json"}, out) == "json"
    with bind(correlation_id="cor_1", document_id="doc_1"):
        logging.getLogger("gateway.intake").info("document received", extra={"partner_id": "demo", "bytes": 12})
    logging.getLogger("gateway.intake").warning("outside")
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["message"] == "document received" and first["level"] == "INFO" and first["role"] == "worker"
    assert (first["correlation_id"], first["document_id"], first["partner_id"], first["bytes"]) == \
        ("cor_1", "doc_1", "demo", 12)
    assert "correlation_id" not in second and first["timestamp"].endswith("+00:00")


def test_text_for_a_terminal_with_the_correlation_id(restore_logging):
    out = Tty()
    assert configure("web", {}, out) == "text"
    with bind(correlation_id="cor_9"):
        logging.getLogger("gateway.routing").info("delivery d1: delivered", extra={"adapter": "erp_http"})
    line = out.getvalue().strip()
    assert "INFO gateway.routing [cor_9]: delivery d1: delivered" in line and line.endswith("adapter=erp_http")


def test_defaults_and_refusals():
    assert log_format({}, io.StringIO()) == "json" and log_format({}, Tty()) == "text"
    assert log_level("worker", {}) == logging.INFO and log_level("validate", {}) == logging.WARNING
    assert log_level("up", {}) == log_level("worker", {"GATEWAY_UP_CHILD": "1"}) == logging.WARNING
    assert log_level("web", {"GATEWAY_LOG_LEVEL": "debug"}) == logging.DEBUG
    with pytest.raises(ConfigError):
        log_format({"GATEWAY_LOG_FORMAT": "xml"})
    with pytest.raises(ConfigError):
        log_level("web", {"GATEWAY_LOG_LEVEL": "loud"})
