"""Client errors: each problem with a request has its own 4xx status and a message.

A service API catches :class:`ClientError` and returns :meth:`ClientError.to_response`,
so the client gets ``{"error": <code>, "detail": <message>}`` with the right status.
:class:`UpstreamError` is the one server-side answer of that shape: a site the service
fetches from failed (502), which is neither the client's fault nor a bug.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:  # starlette is only installed with the services
    from starlette.responses import JSONResponse


class ErrorAnswer(Exception):
    """An error a service answers with its own status, code and message."""

    status: ClassVar[HTTPStatus] = HTTPStatus.INTERNAL_SERVER_ERROR
    code: ClassVar[str] = "error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def to_body(self) -> dict[str, str]:
        return {"error": self.code, "detail": self.detail}

    def to_response(self) -> JSONResponse:
        from starlette.responses import JSONResponse

        return JSONResponse(self.to_body(), status_code=int(self.status))


class ClientError(ErrorAnswer):
    """A problem with what the client sent (never a server fault): a 4xx."""

    status = HTTPStatus.BAD_REQUEST
    code = "bad_request"


class EmptyAudio(ClientError):
    status = HTTPStatus.BAD_REQUEST
    code = "empty_audio"


class AudioTooLarge(ClientError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "audio_too_large"


class AudioTooLong(ClientError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "audio_too_long"


class NotAudio(ClientError):
    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    code = "not_audio"


class CorruptAudio(ClientError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "corrupt_audio"


class EmptyText(ClientError):
    status = HTTPStatus.BAD_REQUEST
    code = "empty_text"


class TextTooLong(ClientError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "text_too_long"


class UnknownLanguage(ClientError):
    status = HTTPStatus.BAD_REQUEST
    code = "unknown_language"


class UnknownModel(ClientError):
    status = HTTPStatus.BAD_REQUEST
    code = "unknown_model"


class UrlNotAllowed(ClientError):
    status = HTTPStatus.BAD_REQUEST
    code = "url_not_allowed"


class VideoUnavailable(ClientError):
    status = HTTPStatus.NOT_FOUND
    code = "video_unavailable"


class VideoTooLong(ClientError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "video_too_long"


class UpstreamError(ErrorAnswer):
    status = HTTPStatus.BAD_GATEWAY
    code = "upstream_error"
