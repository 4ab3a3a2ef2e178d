"""The one place where a service's errors become HTTP answers, and its requests are vetted.

Every front API is declared with :func:`api` instead of ``bentoml.api``; every front
service is passed to :func:`harden` once. Together they guarantee, for every service:

- an :class:`~bentos.common.errors.ErrorAnswer` raised anywhere in an endpoint becomes
  ``{"error", "detail"}`` with its status (and ``Retry-After`` when retrying can help);
- a model worker that is down, restarting or overloaded answers 503 ``model_unavailable``;
- malformed requests are refused before BentoML parses them: a content type the endpoint
  does not take (415), multipart without a boundary (400), a body over the endpoint's
  limit, by ``Content-Length`` or while it streams in, before it is stored (413);
- BentoML's own error answers (validation, parse failures, unknown routes) are rewritten
  to the same shape; a failure while parsing the request is the client's (400), never 500;
- an exception that escapes the app still gets an answer (BentoML's timeout middleware
  would otherwise hold the request open for the service's whole timeout);
- ``/readyz`` answers within :data:`READY_TIMEOUT_S`, 503 ``not_ready`` until ready;
- on SIGTERM, requests in flight get :data:`SHUTDOWN_GRACE_S` to finish, then the worker
  exits (BentoML passes no graceful timeout to dependency workers: they waited forever);
- ``/docs.json`` documents every endpoint's error answers with the error schema.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import logging
import os
import signal
import threading
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from bentos.common.errors import (
    COMMON_ERRORS,
    ErrorAnswer,
    InternalError,
    InvalidRequest,
    MalformedRequest,
    MethodNotAllowed,
    ModelUnavailable,
    NotFound,
    NotReady,
    RequestTooLarge,
    TooManyRequests,
    UnsupportedMediaType,
)

log = logging.getLogger("bentoml.marketplace")

READY_TIMEOUT_S = 2.0  # a readiness probe is answered within this, ready or not
SHUTDOWN_GRACE_S = 5  # requests in flight at SIGTERM get this long before they are cut
HARD_EXIT_S = 3  # past the grace, a worker still alive (a busy thread) exits anyway
JSON_BODY_LIMIT = 1 << 20  # JSON bodies: texts are bounded far below this
MULTIPART_SLACK = 1 << 16  # multipart headers and small fields around the file
ERRORS_ATTR = "__marketplace_errors__"
INTERNAL_MEDIA_TYPE = "application/vnd.bentoml+pickle"  # BentoML's service-to-service body
INTERNAL_DETAIL = "an unexpected error occurred; the server log has the details"

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


# -- endpoints ---------------------------------------------------------------------------


@dataclass
class _RequestState:
    api: bool = False  # a BentoML API route, whose body BentoML parses before the endpoint
    entered: bool = False  # the endpoint started: its request was parsed and valid


_STATE: contextvars.ContextVar[_RequestState | None] = contextvars.ContextVar(
    "marketplace_request", default=None
)


def api(
    *, route: str, errors: Iterable[type[ErrorAnswer]] = (), **options: Any
) -> Callable[[Callable[..., Awaitable[Any]]], Any]:
    """``bentoml.api`` for a front endpoint that may answer ``errors`` (documented in
    the OpenAPI with the common ones); raised errors are answered, not caught by hand."""
    import bentoml

    def decorate(func: Callable[..., Awaitable[Any]]) -> Any:
        @functools.wraps(func)
        async def endpoint(*args: Any, **kwargs: Any) -> Any:
            if (state := _STATE.get()) is not None:
                state.entered = True
            try:
                return await func(*args, **kwargs)
            except ErrorAnswer as exc:
                answer = exc
            except Exception as exc:  # a server fault, whatever its type (even pydantic's)
                if (answer := dependency_failure(exc)) is not None:
                    log.warning("%s: %s", route, answer.detail)
                else:
                    log.exception("%s failed", route)
                    answer = InternalError(INTERNAL_DETAIL)
            for value in kwargs.values():  # BentoML answers with the context's status
                if isinstance(value, bentoml.Context):
                    value.response.status_code = int(answer.status)
            return answer.to_response()

        setattr(endpoint, ERRORS_ATTR, (*errors, *COMMON_ERRORS))
        return bentoml.api(route=route, **options)(endpoint)

    return decorate


def dependency_failure(exc: BaseException) -> ErrorAnswer | None:
    """A failed call to a model worker as a retryable 503, or None for anything else.

    BentoML reaches a dependency with aiohttp (``bentoml.depends``) or httpx (its
    clients): a connection refused, reset or dropped by a dying worker is either's.
    """
    import aiohttp
    import httpx
    from bentoml.exceptions import BentoMLException

    if isinstance(exc, httpx.TransportError | aiohttp.ClientConnectionError):
        return ModelUnavailable(f"the model worker did not answer ({type(exc).__name__})")
    if isinstance(exc, BentoMLException) and int(exc.error_code) in (429, 502, 503, 504):
        return ModelUnavailable(f"the model worker is busy or restarting ({exc.error_code})")
    return None


# -- the middleware ----------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """What one API route accepts."""

    media_types: tuple[str, ...]  # e.g. ("application/json",) or ("multipart/form-data",)
    limit: int  # the largest body, in bytes
    errors: tuple[type[ErrorAnswer], ...] = ()
    too_large: type[ErrorAnswer] = RequestTooLarge  # the answer past the limit


@dataclass
class _Exchange:
    """One request's answer as it goes out: whether it started, and a rewrite."""

    started: bool = False
    too_large: int = 0  # bytes seen when the body streamed past the limit
    too_large_error: type[ErrorAnswer] = RequestTooLarge
    status: int = 0
    held: Message | None = None
    body: list[bytes] = field(default_factory=list)


def harden(
    *,
    upload_limit: int | None = None,
    upload_error: type[ErrorAnswer] = RequestTooLarge,
    model: bool = False,
    routes: dict[str, Route] | None = None,
) -> Callable[[Any], Any]:
    """Class decorator (above ``@bentoml.service``): vet the service's requests and map
    its errors (see the module docstring).

    ``upload_limit``: the largest file a multipart endpoint takes, in bytes, refused
    beyond with ``upload_error`` (e.g. ``audio_too_large``). ``model``: a
    model worker, called by its front only: no request vetting (its callers send
    BentoML's internal encodings), the rest applies. ``routes``: rules for the routes of
    a mounted app (BentoML's own API routes are found on the service).
    """

    def decorate(service: Any) -> Any:
        service.add_asgi_middleware(
            RequestGuard,
            service=service,
            upload_limit=upload_limit,
            upload_error=upload_error,
            vet=not model,
            extra=routes or {},
        )
        return service

    return decorate


class RequestGuard:
    def __init__(
        self,
        app: Any,
        *,
        service: Any,
        upload_limit: int | None,
        upload_error: type[ErrorAnswer],
        vet: bool,
        extra: dict[str, Route],
    ) -> None:
        self.app = app
        self.extra = extra
        self.service = service
        self.upload_limit = upload_limit
        self.upload_error = upload_error
        self.vet = vet
        self._routes: dict[str, Route] | None = None

    @property
    def routes(self) -> dict[str, Route]:
        if self._routes is None:
            self._routes = dict(self.extra)
            for method in self.service.apis.values():
                media = method.input_spec.mime_type()
                multipart = media == "multipart/form-data"
                limit = (self.upload_limit or 0) + MULTIPART_SLACK if multipart else 0
                self._routes[method.route] = Route(
                    media_types=(media,),
                    limit=max(limit, JSON_BODY_LIMIT),
                    errors=getattr(method.func, ERRORS_ATTR, COMMON_ERRORS),
                    too_large=self.upload_error if multipart else RequestTooLarge,
                )
        return self._routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            bound_graceful_shutdown()
            return await self.app(scope, receive, send)
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        if path == "/readyz":
            return await self._readyz(scope, receive, send)
        if path == "/docs.json":
            return await self._docs(scope, receive, send)
        exchange = _Exchange()
        route = self.routes.get(path) if self.vet else None
        if route is not None and scope["method"] == "POST":
            refusal = self._vet(scope, route)
            if refusal is not None:
                return await _answer(send, refusal)
            receive = _limited(receive, route, exchange)
        await self._guarded(scope, receive, send, exchange)

    def _vet(self, scope: Scope, route: Route) -> ErrorAnswer | None:
        headers = _headers(scope)
        media, params = _content_type(headers.get("content-type", ""))
        expected = route.media_types
        if media == INTERNAL_MEDIA_TYPE:
            return None  # a BentoML caller (the studio); BentoML refuses it on an entry service
        if media == "" and headers.get("content-length", "0") == "0":
            return None  # no body at all: the endpoint names what is missing
        if media not in expected and not (media == "" and "application/json" in expected):
            return UnsupportedMediaType(
                f"this endpoint takes {' or '.join(expected)}, "
                f"not {media or 'a body without a content type'}"
            )
        if media == "multipart/form-data" and not params.get("boundary"):
            return MalformedRequest("multipart/form-data without a boundary parameter")
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                return MalformedRequest(f"Content-Length is not a number: {length[:40]!r}")
            if int(length) > route.limit:
                return route.too_large(_too_large(int(length), route.limit))
        return None

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, exchange: _Exchange):
        """Run the app, rewrite its non-conforming error answers, answer what escapes."""
        path = scope["path"]
        state = _RequestState(api=path in self.routes and path not in self.extra)
        token = _STATE.set(state)

        async def rewrite(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
                if exchange.status >= 400:
                    exchange.held = message  # rewritten once the body is in
                    return
                exchange.started = True
                return await send(message)
            if exchange.held is None:
                return await send(message)
            exchange.body.append(message.get("body", b""))
            if not message.get("more_body", False):
                exchange.started = True
                await _send_error(send, exchange, state)

        try:
            await self.app(scope, receive, rewrite)
        except Exception as exc:
            if exchange.started:
                raise
            answer = _escaped(exc, scope, state, exchange)
            await _answer(send, answer)
        finally:
            _STATE.reset(token)

    async def _readyz(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Readiness within READY_TIMEOUT_S; dependencies still starting mean not ready."""
        exchange = _Exchange()

        async def forward(message: Message) -> None:
            exchange.started = True
            await send(message)

        try:
            await asyncio.wait_for(self.app(scope, receive, forward), READY_TIMEOUT_S)
        except (TimeoutError, Exception) as exc:
            if exchange.started:
                return
            reason = "not ready yet" if isinstance(exc, TimeoutError) else type(exc).__name__
            await _answer(send, NotReady(f"the service or a model worker is {reason}"))

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The OpenAPI document, with every endpoint's error answers."""
        parts: list[bytes] = []
        start: Message = {}

        async def collect(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            else:
                parts.append(message.get("body", b""))

        await self.app(scope, receive, collect)
        if start.get("status") != 200:
            return await _replay(send, start, b"".join(parts))
        spec = document_errors(json.loads(b"".join(parts)), self.routes)
        body = json.dumps(spec).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _content_type(value: str) -> tuple[str, dict[str, str]]:
    media, _, rest = value.partition(";")
    params = {}
    for part in rest.split(";"):
        key, _, val = part.strip().partition("=")
        if key:
            params[key.lower()] = val.strip().strip('"')
    return media.strip().lower(), params


def _too_large(size: int, limit: int) -> str:
    return f"the request body is {size / 2**20:.1f} MiB; this endpoint takes at most " + (
        f"{limit / 2**20:.1f} MiB"
    )


class _BodyTooLarge(Exception):
    pass


def _streamed_too_large(exchange: _Exchange) -> ErrorAnswer:
    return exchange.too_large_error(
        f"the request body streamed past this endpoint's limit (refused after "
        f"{exchange.too_large / 2**20:.1f} MiB; nothing was kept)"
    )


def _limited(receive: Receive, route: Route, exchange: _Exchange) -> Receive:
    """``receive`` that stops a body streaming past ``limit``: nothing more is stored."""
    seen = 0

    async def limited() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > route.limit:
                exchange.too_large = seen
                exchange.too_large_error = route.too_large
                raise _BodyTooLarge(_too_large(seen, route.limit))
        return message

    return limited


def _escaped(
    exc: Exception, scope: Scope, state: _RequestState, exchange: _Exchange
) -> ErrorAnswer:
    if exchange.too_large:
        return _streamed_too_large(exchange)
    if (answer := dependency_failure(exc)) is not None:
        return answer
    log.exception("unanswered error on %s", scope.get("path"))
    if state.api and not state.entered:
        return MalformedRequest(f"the request could not be read: {type(exc).__name__}")
    return InternalError(INTERNAL_DETAIL)


async def _send_error(send: Send, exchange: _Exchange, state: _RequestState) -> None:
    """Send a held error answer, rewritten to ``{"error", "detail"}`` if it is not."""
    assert exchange.held is not None
    body = b"".join(exchange.body)
    status = exchange.status
    if exchange.too_large:
        return await _answer(send, _streamed_too_large(exchange))
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if (
        isinstance(parsed, dict)
        and isinstance(parsed.get("error"), str)
        and isinstance(parsed.get("detail"), str)
    ):
        return await _replay(send, exchange.held, body)  # already ours
    answer = _normalised(status, parsed, body, state)
    await _answer(send, answer, extra=_kept_headers(exchange.held))


def _normalised(status: int, parsed: Any, body: bytes, state: _RequestState) -> ErrorAnswer:
    """BentoML's or Starlette's own error answer in our shape."""
    message = _message(parsed, body)
    if status == 400:
        return InvalidRequest(message)
    if status == 404:
        return NotFound(message or "no such route")
    if status == 405:
        return MethodNotAllowed(message or "method not allowed on this route")
    if status == 413:
        return RequestTooLarge(message)
    if status == 415:
        return UnsupportedMediaType(message)
    if status == 429:
        return TooManyRequests(message or "too many requests at once")
    if status == 500 and state.api and not state.entered:
        # BentoML failed while parsing the request, before the endpoint ran
        return MalformedRequest("the request body could not be parsed")
    if status in (502, 503, 504):
        return ModelUnavailable(message or HTTPStatus(status).phrase)
    if 400 <= status < 500:
        answer = InvalidRequest(message)
        answer.status = HTTPStatus(status)  # type: ignore[misc]  # keep the client status
        return answer
    return InternalError(INTERNAL_DETAIL)


def _message(parsed: Any, body: bytes) -> str:
    if isinstance(parsed, dict):
        detail = parsed.get("detail")
        if isinstance(detail, list):  # pydantic's errors
            return "; ".join(_pydantic_error(e) for e in detail if isinstance(e, dict))
        for key in ("detail", "error"):
            if isinstance(parsed.get(key), str):
                return parsed[key]
    if isinstance(parsed, list) and parsed and isinstance(parsed[0], dict):
        return _message(parsed[0], b"")
    return body.decode("utf-8", "replace")[:300]


def _pydantic_error(error: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "function-after"))
    return f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg"))


def _kept_headers(start: Message) -> dict[str, str]:
    kept = {}
    for key, value in start.get("headers", []):
        name = key.decode("latin-1").lower()
        if name in ("retry-after", "allow") or name.startswith("x-bentoml"):
            kept[name] = value.decode("latin-1")
    return kept


async def _answer(send: Send, answer: ErrorAnswer, extra: dict[str, str] | None = None) -> None:
    body = json.dumps(answer.to_body()).encode()
    headers = {
        "content-type": "application/json",
        "content-length": str(len(body)),
        **answer.headers(),
        **(extra or {}),
    }
    await send(
        {
            "type": "http.response.start",
            "status": int(answer.status),
            "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _replay(send: Send, start: Message, body: bytes) -> None:
    await send(start)
    await send({"type": "http.response.body", "body": body})


# -- shutdown ----------------------------------------------------------------------------


def bound_graceful_shutdown(grace: int = SHUTDOWN_GRACE_S) -> None:
    """Bound this worker's shutdown: ``grace`` s for requests in flight, then exit.

    uvicorn installs its own SIGTERM and SIGINT handler, a method of the running server;
    through it the server's config is reached. Without a bound, a request in flight keeps
    the worker (and its port) alive after Ctrl-C for as long as the request lasts, and
    BentoML gives dependency workers none. Work in a thread cannot be cancelled: a worker
    still alive :data:`HARD_EXIT_S` after the grace exits regardless.
    """
    handler = signal.getsignal(signal.SIGTERM)
    server = getattr(handler, "__self__", None)
    config = getattr(server, "config", None)
    if config is None or getattr(handler, "__func__", None) is None:
        return  # not uvicorn's handler (already bounded, or not under uvicorn)
    if config.timeout_graceful_shutdown is None:
        config.timeout_graceful_shutdown = grace
    deadline = config.timeout_graceful_shutdown + HARD_EXIT_S

    def on_signal(signum: int, frame: Any) -> None:
        timer = threading.Timer(deadline, os._exit, args=(0,))
        timer.daemon = True
        timer.start()
        handler(signum, frame)

    for signum in (signal.SIGTERM, signal.SIGINT):
        if signal.getsignal(signum) == handler:
            signal.signal(signum, on_signal)


# -- OpenAPI -----------------------------------------------------------------------------


ERROR_SCHEMA = "MarketplaceError"


def document_errors(spec: dict[str, Any], routes: dict[str, Route]) -> dict[str, Any]:
    """Add each route's error answers to an OpenAPI document (in place; returned)."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas[ERROR_SCHEMA] = {
        "type": "object",
        "title": ERROR_SCHEMA,
        "description": "Every error answer: a stable code and a human-readable message.",
        "required": ["error", "detail"],
        "properties": {
            "error": {"type": "string", "description": "machine-readable code"},
            "detail": {"type": "string", "description": "what went wrong"},
        },
    }
    _restore_nullable(spec)
    for path, route in routes.items():
        operation = spec.get("paths", {}).get(path, {}).get("post")
        if operation is None:
            continue
        responses = {k: v for k, v in operation.get("responses", {}).items() if k[:1] == "2"}
        by_status: dict[int, list[str]] = {}
        for error in route.errors:
            by_status.setdefault(int(error.status), []).append(error.code)
        by_status.setdefault(404, []).append(NotFound.code)
        for status, codes in sorted(by_status.items()):
            unique = list(dict.fromkeys(codes))
            responses[str(status)] = {
                "description": f"{HTTPStatus(status).phrase}: {', '.join(unique)}",
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}}
                },
            }
        operation["responses"] = responses
    return spec


def _restore_nullable(node: Any) -> None:
    """BentoML's OpenAPI 3.0 keeps only the first branch of ``X | None`` fields: a field
    whose default is null is said to be nullable again, so the document matches answers."""
    if isinstance(node, dict):
        if node.get("default", ...) is None and "type" in node:
            node["nullable"] = True
        for value in node.values():
            _restore_nullable(value)
    elif isinstance(node, list):
        for value in node:
            _restore_nullable(value)
