"""Logs as JSON lines with the id of the request they belong to.

`RequestIdMiddleware` (first in MIDDLEWARE) takes the id from the `X-Request-ID` header that nginx sets
(`$request_id`), or makes one, keeps it for the time of the request, and sends it back in the response.
`RequestIdFilter` adds it to every log record of that request; `JsonFormatter` writes one JSON object a
line, so that the log collector reading stdout needs no parsing rules. Only the standard library: the
settings import this module.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponseBase

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is kept only when it looks like one (nginx's is 32 hex digits; a uuid has dashes):
# anything else is replaced, so a client cannot write what it likes into the logs.
_VALID_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        value = incoming if _VALID_ID.fullmatch(incoming) else uuid.uuid4().hex
        # Kept until the request is finished (`forget_request_id`), not just until this middleware
        # returns: Django logs an error that escapes every middleware after that.
        request_id.set(value)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = value
        return response


def forget_request_id(**kwargs: object) -> None:
    """Connected to `request_finished`: what the thread logs next belongs to no request."""
    request_id.set(None)


class RequestIdFilter(logging.Filter):
    """Give every record a `request_id`: the current request's, or None outside a request (a task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


# The attributes every LogRecord has; anything else was passed in `extra=` and is written too.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "request_id"}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request_id, the extras,
    and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
