"""Every error a service answers: a status, a stable code and a message.

Code anywhere in a service raises an :class:`ErrorAnswer` subclass; one place turns it
into the answer ``{"error": <code>, "detail": <message>}`` (:mod:`bentos.common.http`).
:class:`ClientError` (4xx) is a problem with what the client sent. :class:`ServerError`
(5xx) is the server's: a bug (500), or a fault that retrying can cure (``retryable``:
502 upstream, 503 busy or restarting, 504 too slow), answered with ``Retry-After``.

torch-free and starlette-free at import: the thin client imports :class:`ErrorBody`'s
module, and training imports these classes.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:  # starlette is only installed with the services
    from starlette.responses import JSONResponse

RETRY_AFTER_S = 5  # what a retryable answer tells the client to wait


class ErrorAnswer(Exception):
    """An error a service answers with its own status, code and message."""

    status: ClassVar[HTTPStatus] = HTTPStatus.INTERNAL_SERVER_ERROR
    code: ClassVar[str] = "internal_error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def retryable(self) -> bool:
        return self.status in RETRYABLE

    def to_body(self) -> dict[str, str]:
        return {"error": self.code, "detail": self.detail}

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(RETRY_AFTER_S)} if self.retryable else {}

    def to_response(self) -> JSONResponse:
        from starlette.responses import JSONResponse

        return JSONResponse(self.to_body(), status_code=int(self.status), headers=self.headers())


RETRYABLE = frozenset(
    {HTTPStatus.BAD_GATEWAY, HTTPStatus.SERVICE_UNAVAILABLE, HTTPStatus.GATEWAY_TIMEOUT}
)


class ClientError(ErrorAnswer):
    """A problem with what the client sent (never a server fault): a 4xx."""

    status = HTTPStatus.BAD_REQUEST
    code = "bad_request"


class ServerError(ErrorAnswer):
    """A fault of the server (never the client's): a 5xx."""


# -- requests that are malformed whatever the endpoint ---------------------------------


class InvalidRequest(ClientError):
    """A field is missing, of the wrong type or out of bounds."""

    code = "invalid_request"


class MalformedRequest(ClientError):
    """The body cannot be parsed: broken JSON or multipart, invalid UTF-8, too deep."""

    code = "malformed_request"


class UnsupportedMediaType(ClientError):
    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    code = "unsupported_media_type"


class RequestTooLarge(ClientError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "request_too_large"


class NotFound(ClientError):
    status = HTTPStatus.NOT_FOUND
    code = "not_found"


class MethodNotAllowed(ClientError):
    status = HTTPStatus.METHOD_NOT_ALLOWED
    code = "method_not_allowed"


class TooManyRequests(ClientError):
    status = HTTPStatus.TOO_MANY_REQUESTS
    code = "too_many_requests"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(RETRY_AFTER_S)}


# -- audio -------------------------------------------------------------------------------


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


class TruncatedAudio(ClientError):
    """The file announces more audio than it holds (an interrupted download or copy)."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "truncated_audio"


# -- images ------------------------------------------------------------------------------


class EmptyImage(ClientError):
    status = HTTPStatus.BAD_REQUEST
    code = "empty_image"


class ImageTooLarge(ClientError):
    """Too many bytes, too many pixels or a side too long (decompression bombs too)."""

    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "image_too_large"


class NotImage(ClientError):
    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    code = "not_image"


class CorruptImage(ClientError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "corrupt_image"


# -- text --------------------------------------------------------------------------------


class EmptyText(ClientError):
    status = HTTPStatus.BAD_REQUEST
    code = "empty_text"


class NoWords(ClientError):
    status = HTTPStatus.BAD_REQUEST
    code = "no_words"


class TextTooLong(ClientError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "text_too_long"


class UnknownLanguage(ClientError):
    status = HTTPStatus.BAD_REQUEST
    code = "unknown_language"


# -- art ---------------------------------------------------------------------------------


class UnknownModel(ClientError):
    status = HTTPStatus.BAD_REQUEST
    code = "unknown_model"


class OverBudget(ClientError):
    """The request asks for more work (pixels x steps x images) than one request may."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "over_budget"


# -- youtube -----------------------------------------------------------------------------


class UrlNotAllowed(ClientError):
    status = HTTPStatus.BAD_REQUEST
    code = "url_not_allowed"


class VideoUnavailable(ClientError):
    status = HTTPStatus.NOT_FOUND
    code = "video_unavailable"


class VideoTooLong(ClientError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "video_too_long"


# -- server faults -----------------------------------------------------------------------


class InternalError(ServerError):
    """A bug: the log has the traceback."""


# -- videos (the actions service) ---------------------------------------------------------


class EmptyVideo(ClientError):
    status = HTTPStatus.BAD_REQUEST
    code = "empty_video"


class VideoTooLarge(ClientError):
    """Too many bytes, or a frame too large (width, height)."""

    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "video_too_large"


class NotVideo(ClientError):
    """Not a container format the service reads (mp4, webm, mkv, avi), or no video in it."""

    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    code = "not_video"


class CorruptVideo(ClientError):
    """A video container whose stream cannot be decoded (truncated, damaged)."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "corrupt_video"


class BadFrameRate(ClientError):
    """A frame rate the service does not take (unknown, or above the limit)."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "bad_frame_rate"


class UnknownTask(ClientError):
    status = HTTPStatus.NOT_FOUND
    code = "unknown_task"


class TaskNotDone(ClientError):
    """The task's result was asked for before it finished."""

    status = HTTPStatus.CONFLICT
    code = "task_not_done"


class TaskCancelled(ClientError):
    status = HTTPStatus.GONE
    code = "task_cancelled"


# -- tag scores (the tags service) -------------------------------------------------------


class NoTracks(ClientError):
    status = HTTPStatus.BAD_REQUEST
    code = "no_tracks"


class UnknownTags(ClientError):
    """A score names a tag or category the model does not know."""

    status = HTTPStatus.BAD_REQUEST
    code = "unknown_tags"


class MissingTags(ClientError):
    """A track lacks the score of a tag or category the model reads."""

    status = HTTPStatus.BAD_REQUEST
    code = "missing_tags"


class InvalidScore(ClientError):
    """A score is not a number in [0, 1] (NaN, infinite, negative, above 1, not a number)."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "invalid_score"


class TooManyTracks(ClientError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "too_many_tracks"


class BadTable(ClientError):
    """The CSV upload cannot be read as a table of scores (not text, no header, ragged)."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "bad_table"


class TableTooLarge(ClientError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "table_too_large"


class UpstreamError(ServerError):
    """A site the service fetches from failed: neither the client's fault nor a bug."""

    status = HTTPStatus.BAD_GATEWAY
    code = "upstream_error"


class UpstreamBusy(ServerError):
    """The site refuses for now (rate limit, bot check): worth trying again later."""

    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "upstream_busy"


class Overloaded(ServerError):
    """The machine is too busy to finish the work in time (e.g. a decode timed out)."""

    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "overloaded"


class ModelUnavailable(ServerError):
    """The model worker behind the front is starting, restarting or overloaded."""

    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "model_unavailable"


class NotReady(ServerError):
    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "not_ready"


class DeadlineExceeded(ServerError):
    status = HTTPStatus.GATEWAY_TIMEOUT
    code = "deadline_exceeded"


# Answers every endpoint may give whatever it does (the request envelope, the server).
COMMON_ERRORS: tuple[type[ErrorAnswer], ...] = (
    InvalidRequest,
    MalformedRequest,
    UnsupportedMediaType,
    RequestTooLarge,
    InternalError,
    ModelUnavailable,
    DeadlineExceeded,
)
AUDIO_ERRORS: tuple[type[ErrorAnswer], ...] = (
    EmptyAudio,
    AudioTooLarge,
    AudioTooLong,
    NotAudio,
    CorruptAudio,
    TruncatedAudio,
    Overloaded,
)
TEXT_ERRORS: tuple[type[ErrorAnswer], ...] = (EmptyText, NoWords, TextTooLong)
VIDEO_ERRORS: tuple[type[ErrorAnswer], ...] = (
    EmptyVideo,
    VideoTooLarge,
    VideoTooLong,
    NotVideo,
    CorruptVideo,
    BadFrameRate,
    Overloaded,
)
TAGS_ERRORS: tuple[type[ErrorAnswer], ...] = (
    NoTracks,
    UnknownTags,
    MissingTags,
    InvalidScore,
    TooManyTracks,
)
TABLE_ERRORS: tuple[type[ErrorAnswer], ...] = (*TAGS_ERRORS, BadTable, TableTooLarge)
IMAGE_ERRORS: tuple[type[ErrorAnswer], ...] = (
    EmptyImage,
    ImageTooLarge,
    NotImage,
    CorruptImage,
    Overloaded,
)
