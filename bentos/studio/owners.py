"""Who sees what: an owner token per client, and no cross-site writes.

The first visit gets a random owner token in a cookie (``studio_owner``: HttpOnly,
SameSite=Strict) and in the ``X-Studio-Owner`` header of the answer; API clients send
it back in that header. A run belongs to the token that created it. Writes under
``/api`` (POST, PUT, PATCH, DELETE) need a token and are refused when the browser says
they come from another site (``Sec-Fetch-Site``, ``Origin``): a form on another site
cannot start runs, and carries no cookie anyway.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from fastapi import Request, Response
from fastapi.responses import JSONResponse

COOKIE = "studio_owner"
HEADER = "X-Studio-Owner"
TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
YEAR_S = 365 * 24 * 3600


def new_token() -> str:
    return secrets.token_urlsafe(32)


def cross_site(request: Request) -> bool:
    if request.headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = request.headers.get("origin")
    return bool(origin) and urlsplit(origin).netloc != request.headers.get("host")


def _refuse(code: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=403)


async def owners(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """HTTP middleware: ``request.state.owner`` for every request."""
    given = request.headers.get(HEADER) or request.cookies.get(COOKIE)
    token = given if given and TOKEN.match(given) else None
    if request.method in WRITES and request.url.path.startswith("/api/"):
        if cross_site(request):
            return _refuse("cross_site", "a request from another site cannot change anything")
        if token is None:
            return _refuse(
                "no_owner", f"send your owner token in {HEADER} (GET /api/owner gives one)"
            )
    issued = token is None
    request.state.owner = token = token or new_token()
    response = await call_next(request)
    if issued:
        response.set_cookie(COOKIE, token, max_age=YEAR_S, httponly=True, samesite="strict")
        response.headers[HEADER] = token
    return response
