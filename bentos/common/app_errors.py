"""The error answers of a FastAPI app mounted in a service (the studio, the core-engine
bridge): an :class:`~bentos.common.errors.ErrorAnswer` raised in a route is answered
with its status and ``{"error", "detail"}``; a request that does not validate is a 400
``invalid_request`` naming each field and what is wrong with it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bentos.common.errors import ErrorAnswer

if TYPE_CHECKING:
    from fastapi import FastAPI


def answer_errors(app: FastAPI) -> None:
    from fastapi import Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

    @app.exception_handler(ErrorAnswer)
    async def _error_answer(request: Request, exc: ErrorAnswer) -> JSONResponse:
        return exc.to_response()

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        where = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in exc.errors())
        return JSONResponse({"error": "invalid_request", "detail": where}, status_code=400)
