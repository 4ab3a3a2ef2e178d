"""Where the services are: one URL setting per service.

``MARKETPLACE_<SERVICE>_URL`` (e.g. ``MARKETPLACE_GENRE_URL``), or the ``covers`` flags.
Unset, the command line uses this machine's default ports (``make stack`` serves each
service there); the studio instead starts the service inside its own Bento.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

Service = Literal["youtube", "transcribe", "genre", "lyrics", "summarize", "art"]
SERVICES: tuple[Service, ...] = get_args(Service)
# Default local ports: the studio (the whole stack in one Bento) on 3000, each service next.
LOCAL_PORTS: dict[str, int] = {"studio": 3000} | {s: 3001 + i for i, s in enumerate(SERVICES)}


class ServiceUrls(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MARKETPLACE_", extra="ignore")

    youtube_url: str | None = Field(None, description="base URL of the youtube service")
    transcribe_url: str | None = None
    genre_url: str | None = None
    lyrics_url: str | None = None
    summarize_url: str | None = None
    art_url: str | None = None

    def url(self, service: Service) -> str | None:
        return getattr(self, f"{service}_url")

    def or_local(self, host: str = "localhost") -> dict[Service, str]:
        """Every service's URL, this machine's default port where none is set."""
        return {s: self.url(s) or f"http://{host}:{LOCAL_PORTS[s]}" for s in SERVICES}
