"""Logs are JSON lines on stdout, each record of a request tagged with that request's id."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest

from core.logging import JsonFormatter, RequestIdFilter


@pytest.fixture
def request_log():
    """What the `django.request` logger writes through the project's filter and JSON formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.django_db
def test_a_request_keeps_the_id_the_proxy_gave_it(client, request_log):
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="0f3c9a2b7d1e4c55a6b8c9d0e1f2a3b4")

    assert response["X-Request-ID"] == "0f3c9a2b7d1e4c55a6b8c9d0e1f2a3b4"
    [entry] = lines(request_log)
    assert entry["request_id"] == "0f3c9a2b7d1e4c55a6b8c9d0e1f2a3b4"
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "django.request"
    assert entry["message"] == "Not Found: /no-such-page/"


@pytest.mark.django_db
@pytest.mark.parametrize("incoming", [None, "short", 'x" injected\n{"level": "INFO"}', "a" * 65])
def test_a_request_without_a_usable_id_gets_a_new_one(client, request_log, incoming):
    headers = {"HTTP_X_REQUEST_ID": incoming} if incoming is not None else {}
    response = client.get("/no-such-page/", **headers)

    generated = response["X-Request-ID"]
    assert generated != incoming
    assert len(generated) == 32 and int(generated, 16) >= 0
    assert lines(request_log)[0]["request_id"] == generated


def test_two_requests_get_different_ids(client):
    assert client.get("/healthz")["X-Request-ID"] != client.get("/healthz")["X-Request-ID"]


def test_a_record_outside_a_request_has_no_id_and_a_traceback_stays_on_one_line():
    record = logging.LogRecord("funding.tasks", logging.ERROR, __file__, 1, "scan failed for %s", ("SIM",), None)
    try:
        raise RuntimeError("broker down")
    except RuntimeError:
        record.exc_info = sys.exc_info()
    record.cluster = "sim"
    RequestIdFilter().filter(record)

    text = JsonFormatter().format(record)

    assert "\n" not in text
    entry = json.loads(text)
    assert entry["message"] == "scan failed for SIM"
    assert entry["request_id"] is None
    assert entry["cluster"] == "sim"
    assert "RuntimeError: broker down" in entry["exception"]


def test_production_logs_json_lines_on_stdout(tmp_path):
    from tests.config.test_deployment import production_env, run

    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('clusterpacts').warning('report %s submitted', 2024)"
    )
    result = run(["-W", "ignore", "-c", code], production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    entry = json.loads(result.stdout.strip().splitlines()[-1])
    assert entry["message"] == "report 2024 submitted"
    assert entry["level"] == "WARNING"
    assert "request_id" in entry
    assert "report 2024" not in result.stderr
