"""Errors the client raises, each naming the service that failed."""

from __future__ import annotations

import httpx

from marketplace.contracts.schemas import ErrorBody


class ServiceError(Exception):
    """A service answered with an error status; ``body`` holds its parsed error, if any."""

    def __init__(self, service: str, status: int, body: ErrorBody | None, text: str) -> None:
        self.service, self.status, self.body = service, status, body
        reason = f"{body.error}: {body.detail}" if body else text[:300]
        super().__init__(f"{service} service answered {status}: {reason}")

    @classmethod
    def from_response(cls, service: str, response: httpx.Response) -> ServiceError:
        try:
            body = ErrorBody.model_validate(response.json())
        except ValueError:
            body = None
        return cls(service, response.status_code, body, response.text)


class ServiceUnreachable(Exception):
    """No answer from a service: refused, reset or timed out connection. ``retryable``
    when the request cannot have been half-processed in a way that matters."""

    def __init__(self, service: str, url: str, cause: Exception, *, retryable: bool) -> None:
        self.service, self.url, self.cause, self.retryable = service, url, cause, retryable
        what = type(cause).__name__
        super().__init__(f"{service} service at {url} did not answer ({what}: {cause})")
