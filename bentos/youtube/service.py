"""YouTube service: ``POST /fetch`` with ``{"url"}`` answers the video's audio and metadata.

Only single YouTube videos are fetched (see :mod:`bentos.youtube.addresses`); the audio
comes back base64-encoded as mp3 or ogg, with the title, uploader and duration. Not a
model service: no batching, downloads run in threads.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

import bentoml
from pydantic import Field

from bentos.common.errors import (
    UpstreamBusy,
    UpstreamError,
    UrlNotAllowed,
    VideoTooLong,
    VideoUnavailable,
)
from bentos.common.http import api, harden
from bentos.common.settings import SERVICE_TIMEOUTS
from bentos.youtube.addresses import MAX_URL_LENGTH, check_public, parse_video_url
from bentos.youtube.fetch import fetch_audio
from bentos.youtube.settings import YoutubeSettings
from marketplace.contracts.schemas import FetchedAudio

log = logging.getLogger("bentoml.youtube")


@harden()
@bentoml.service(
    name="youtube", traffic={"timeout": SERVICE_TIMEOUTS["youtube"], "max_concurrency": 8}
)
class Youtube:
    def __init__(self) -> None:
        self.settings = YoutubeSettings()
        if self.settings.test_origin:
            log.warning(
                "YOUTUBE_TEST_ORIGIN is set: files under %s are fetched too (tests only)",
                self.settings.test_origin,
            )

    @api(
        route="/fetch",
        errors=(UrlNotAllowed, VideoTooLong, VideoUnavailable, UpstreamError, UpstreamBusy),
    )
    async def fetch(
        self,
        url: Annotated[
            str,
            Field(min_length=1, max_length=MAX_URL_LENGTH, description="a YouTube video address"),
        ],
    ) -> FetchedAudio:
        """The audio of one YouTube video (mp3 or ogg, base64) with title, uploader, duration.

        Refused: any address that is not a single YouTube video over https, playlists,
        hosts that resolve to private or loopback addresses (400 ``url_not_allowed``),
        live streams (400), videos longer than ``YOUTUBE_MAX_SECONDS`` (413
        ``video_too_long``), unavailable or private videos (404 ``video_unavailable``).
        A download that fails on the network side answers 502 ``upstream_error``; YouTube's
        rate limits and bot checks 503 ``upstream_busy`` (retry later).
        """
        address = parse_video_url(url, self.settings.test_origin)
        if address.video_id is not None:
            await asyncio.to_thread(check_public, address.host)
        return await asyncio.to_thread(fetch_audio, address, self.settings)
