"""Thin async client of the marketplace services (no torch: ``pip install .[client]``).

Typed clients of each service, and the ``covers`` command: the covers pipeline
(``pipelines/covers.yaml``) run by the engine, reported stage by stage.
"""

from pipeline_client.clients import (
    ArtClient,
    AudioFile,
    GenreClient,
    LyricsClient,
    SummarizeClient,
    TranscribeClient,
    YoutubeClient,
)
from pipeline_client.errors import ServiceError, ServiceUnreachable

__all__ = [
    "ArtClient",
    "AudioFile",
    "GenreClient",
    "LyricsClient",
    "ServiceError",
    "ServiceUnreachable",
    "SummarizeClient",
    "TranscribeClient",
    "YoutubeClient",
]
