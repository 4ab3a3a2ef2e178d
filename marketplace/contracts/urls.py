"""Where the services are: one URL setting per service.

``MARKETPLACE_<SERVICE>_URL`` (e.g. ``MARKETPLACE_GENRE_URL``), or the commands' flags.
Unset, the commands use this machine's default ports (``make stack`` serves each service
there); the studio instead starts the service inside its own Bento.
"""

from __future__ import annotations

from pydantic import create_model
from pydantic_settings import BaseSettings, SettingsConfigDict

from marketplace.contracts.services import LOCAL_PORTS, SERVICE_NAMES


class _Urls(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MARKETPLACE_", extra="ignore")

    def url(self, service: str) -> str | None:
        return getattr(self, f"{service}_url")

    def or_local(self, host: str = "localhost") -> dict[str, str]:
        """Every service's URL, this machine's default port where none is set."""
        return {s: self.url(s) or f"http://{host}:{LOCAL_PORTS[s]}" for s in SERVICE_NAMES}


# ``<service>_url`` for every service: its base URL, or None for the default.
ServiceUrls = create_model(
    "ServiceUrls",
    __base__=_Urls,
    __doc__="Each service's base URL (``MARKETPLACE_<SERVICE>_URL``).",
    **{f"{s}_url": (str | None, None) for s in SERVICE_NAMES},
)
