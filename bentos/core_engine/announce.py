"""Registering the bridge's services with the core engine, and keeping them alive there.

Each service is registered with ``POST /services``; when its slug is already there (a
restart), its description is updated (``GET /services/slug/{slug}``, then ``PATCH
/services/{id}``). The engine first checks that ``<url>/status`` answers, so a
registration made before the bridge serves fails and is tried again, waiting 3 s, then
twice as long each time, up to a minute; a slug the engine has for another URL is not
taken over (set ``CORE_ENGINE_SLUG_PREFIX``). Registered services ping the engine every
``heartbeat_s`` (``POST /services/{slug}/ping``): the engine puts a service to sleep
when its pings stop. A ping answered 404 (the engine lost it) registers it again. On
shutdown every service is marked unavailable.
"""

from __future__ import annotations

import asyncio
import logging

import httpx

from bentos.core_engine.contract import ServiceDescription
from bentos.core_engine.settings import CoreEngineSettings

log = logging.getLogger("bentoml.marketplace.core_engine")
MAX_RETRY_S = 60.0


class Announcer:
    def __init__(
        self,
        settings: CoreEngineSettings,
        descriptions: list[ServiceDescription],
        http: httpx.AsyncClient,
    ) -> None:
        assert settings.url, "no engine to announce to"
        self.engine = settings.url.rstrip("/")
        self.settings = settings
        self.descriptions = {d.slug: d for d in descriptions}
        self.http = http
        self.ids: dict[str, str] = {}  # slug -> the engine's id, once registered
        self.failures: dict[str, str] = {}  # slug -> the last failure, while unregistered

    async def run(self) -> None:
        """Register every service, and ping those registered; forever (cancelled at
        shutdown). A service the engine refuses is tried again on its own backoff: the
        others keep their heartbeat meanwhile."""
        pending = {slug: 0.0 for slug in self.descriptions}  # slug -> when to try again
        waits = {slug: self.settings.announce_retry_s for slug in self.descriptions}
        next_beat = 0.0
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            for slug, due in sorted(pending.items()):
                if due > now:
                    continue
                if await self.register(self.descriptions[slug]):
                    del pending[slug]
                    waits[slug] = self.settings.announce_retry_s
                else:
                    pending[slug] = now + waits[slug]
                    waits[slug] = min(waits[slug] * 2, MAX_RETRY_S)
            if loop.time() >= next_beat:
                next_beat = loop.time() + self.settings.heartbeat_s
                for slug in list(self.ids):
                    if not await self.ping(slug):  # the engine lost it: register it again
                        self.ids.pop(slug)
                        pending[slug] = 0.0
            wake = min([next_beat, *pending.values()])
            await asyncio.sleep(max(0.05, wake - loop.time()))

    async def register(self, description: ServiceDescription) -> bool:
        body = description.model_dump(mode="json")
        try:
            answer = await self.http.post(f"{self.engine}/services", json=body)
            if answer.status_code == 409:  # registered before (a restart): update it
                found = await self.http.get(f"{self.engine}/services/slug/{description.slug}")
                found.raise_for_status()
                known = found.json()
                if str(known.get("url", "")).rstrip("/") != description.url.rstrip("/"):
                    return self._failed(description.slug, f"the engine has another service "
                                        f"at this slug ({known.get('url')}); set "
                                        "CORE_ENGINE_SLUG_PREFIX")  # fmt: skip
                service_id = str(known["id"])
                answer = await self.http.patch(f"{self.engine}/services/{service_id}", json=body)
            if answer.status_code != 200:
                return self._failed(description.slug, f"answered {answer.status_code}: "
                                    f"{answer.text[:300]}")  # fmt: skip
            self.ids[description.slug] = str(answer.json()["id"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            return self._failed(description.slug, f"{type(exc).__name__}: {exc}")
        self.failures.pop(description.slug, None)
        log.info("registered %s with the core engine at %s", description.slug, self.engine)
        return True

    def _failed(self, slug: str, reason: str) -> bool:
        if self.failures.get(slug) != reason:  # once per distinct reason, not every retry
            log.warning("registering %s with the core engine failed (%s); retrying", slug,
                        reason)  # fmt: skip
        self.failures[slug] = reason
        return False

    async def ping(self, slug: str) -> bool:
        """False when the engine no longer knows the service (register it again)."""
        try:
            answer = await self.http.post(f"{self.engine}/services/{slug}/ping")
        except httpx.HTTPError as exc:
            log.warning("pinging the core engine for %s failed (%s)", slug, type(exc).__name__)
            return True  # the engine is away; it is asked again at the next beat
        return answer.status_code != 404

    async def retire(self) -> None:
        """Mark every registered service unavailable (best effort, at shutdown). The
        engine's own check puts a service back to available while its last ping is
        younger than 50 s: until then it may still send tasks, which then fail."""

        async def one(service_id: str) -> None:
            await self.http.patch(f"{self.engine}/services/{service_id}",
                                  json={"status": "unavailable"}, timeout=3.0)  # fmt: skip

        await asyncio.gather(*(one(i) for i in self.ids.values()), return_exceptions=True)
