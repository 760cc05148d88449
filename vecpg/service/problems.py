"""Every error of ``vecpg serve`` as ``{"error": {"type", "message"}}`` with a 4xx status.

vecpg's exceptions map to statuses by class; anything unforeseen is logged with its traceback
and answered with a 500 that says only that (never the traceback: it may hold data).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import psycopg
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from .. import errors

log = logging.getLogger("vecpg.service")


class ApiError(Exception):
    """An error the service answers as it is: ``status``, ``type`` and ``message``."""

    def __init__(self, status: int, type_: str, message: str) -> None:
        super().__init__(message)
        self.status, self.type, self.message = status, type_, message


# Most specific first: the first class an exception is an instance of decides.
STATUSES: list[tuple[type[BaseException], int]] = [
    (errors.Unauthorized, 401),
    (errors.Forbidden, 403),
    (errors.PermissionDenied, 403),
    (errors.CollectionNotFound, 404),
    (errors.CollectionExists, 409),
    (errors.StatementTimeout, 408),
    (psycopg.errors.QueryCanceled, 408),  # cancelled because its client left: nobody reads this
    (errors.LLMError, 424),  # the model the answer depends on failed (the service itself did not)
    (errors.MissingDependency, 424),
    (errors.NotMigrated, 409),
    (errors.VecpgError, 400),
]


def type_name(exc: BaseException) -> str:
    """``CollectionNotFound`` → ``collection_not_found``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()


def body(status: int, type_: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"type": type_, "message": message}}, status_code=status, headers=headers)


def answer(exc: BaseException) -> JSONResponse:
    """The response for an exception raised while serving a request."""
    if isinstance(exc, ApiError):
        return body(exc.status, exc.type, exc.message)
    for kind, status in STATUSES:
        if isinstance(exc, kind):
            headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
            return body(status, type_name(exc), " ".join(str(exc).split()), headers)
    log.error("unexpected error", exc_info=exc)
    return body(500, "internal", "the service failed on this request; the error is in its log")


async def on_http_exception(request: Request, exc: Any) -> JSONResponse:
    """Starlette's own errors (no such route, method not allowed) in the same form."""
    assert isinstance(exc, HTTPException)
    kind = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return body(exc.status_code, kind, str(exc.detail))


async def on_exception(request: Request, exc: Exception) -> JSONResponse:
    return answer(exc)
