"""Client errors: each problem with a request has its own 4xx status and a message.

A service API catches :class:`ClientError` and returns :meth:`ClientError.to_response`,
so the client gets ``{"error": <code>, "detail": <message>}`` with the right status.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:  # starlette is only installed with the services
    from starlette.responses import JSONResponse


class ClientError(Exception):
    """A problem with what the client sent (never a server fault)."""

    status: ClassVar[HTTPStatus] = HTTPStatus.BAD_REQUEST
    code: ClassVar[str] = "bad_request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def to_body(self) -> dict[str, str]:
        return {"error": self.code, "detail": self.detail}

    def to_response(self) -> JSONResponse:
        from starlette.responses import JSONResponse

        return JSONResponse(self.to_body(), status_code=int(self.status))


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
