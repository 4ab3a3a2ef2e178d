"""The marketplace's model services, named once.

Everything that lists the services (the Bentos to build, the service URLs and default
ports, the local stack, the timeouts, the catalogue) reads :data:`SERVICES`.
"""

from __future__ import annotations

from dataclasses import dataclass

STUDIO = "studio"
STUDIO_PORT = 3000  # the studio (the whole stack in one Bento); each service next to it
STUDIO_TIMEOUT_S = 3600
CORE_ENGINE = "core_engine"  # the bridge to the Swiss AI Center core engine (its own Bento)


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    timeout_s: int  # a request's limit: BentoML's traffic timeout and the KServe predictor's
    gpu: bool = False  # production runs it on a GPU node

    @property
    def bento_dir(self) -> str:
        return f"bentos/{self.name}"


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("youtube", timeout_s=600),
    ServiceSpec("transcribe", timeout_s=600, gpu=True),
    ServiceSpec("genre", timeout_s=120),
    ServiceSpec("lyrics", timeout_s=120),
    ServiceSpec("summarize", timeout_s=300),
    ServiceSpec("art", timeout_s=900, gpu=True),  # three 512 x 512 covers: minutes on a CPU
    ServiceSpec("segment", timeout_s=120),  # street photos: the U-Net is fast on a CPU
    ServiceSpec("tags", timeout_s=60),  # tag scores to decisions: numpy, milliseconds
    ServiceSpec("actions", timeout_s=900),  # a 15-minute video: decode, flow, windows
)
SERVICE_NAMES: tuple[str, ...] = tuple(s.name for s in SERVICES)
# Default local ports: the studio on 3000, each service after it in this order.
LOCAL_PORTS: dict[str, int] = {STUDIO: STUDIO_PORT} | {
    s.name: STUDIO_PORT + 1 + i for i, s in enumerate(SERVICES)
}
# Request timeouts (seconds) of each service, front and model worker alike, the studio's
# included; the KServe predictors' timeouts (a test holds them equal).
SERVICE_TIMEOUTS: dict[str, int] = {s.name: s.timeout_s for s in SERVICES} | {
    STUDIO: STUDIO_TIMEOUT_S
}


# A caller's limit on one call: the service's own timeout, plus the time to send the
# request and read the answer (an upload of tens of MB, covers in base64).
TRANSFER_MARGIN_S = 30
CALL_TIMEOUTS: dict[str, int] = {s.name: s.timeout_s + TRANSFER_MARGIN_S for s in SERVICES}


def spec(name: str) -> ServiceSpec:
    for service in SERVICES:
        if service.name == name:
            return service
    raise KeyError(f"unknown service '{name}'; known: {', '.join(SERVICE_NAMES)}")
