"""Cover art service: ``POST /generate`` paints album covers with Stable Diffusion.

The front (``Art``) validates the request, builds the prompt and draws the seed, then asks
``CoverPainter`` for one image per model. ``CoverPainter`` holds every configured pipeline
and has one batchable API over images: images of concurrent requests for the same model
(and the same steps, guidance and size) go through one pipeline call.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import secrets
import time
import uuid
from typing import Any

import bentoml

from bentos.art.painter import Job, Painter, Painting
from bentos.art.prompt import build_prompt
from bentos.art.settings import ArtSettings
from bentos.common.errors import ClientError, DeadlineExceeded, OverBudget, UnknownModel
from bentos.common.http import api, harden
from bentos.common.pinned import local_source
from bentos.common.settings import SERVICE_TIMEOUTS, MarketplaceSettings, Profile, model_service
from marketplace.contracts.schemas import CoverImage, CoverRequest, CoverResult

SETTINGS = ArtSettings()
log = logging.getLogger("bentoml.art")
DISCONNECT_POLL_S = 1.0


class Cancelled(ClientError):
    """The client went away (or its deadline passed) before the covers were painted."""

    code = "cancelled"


def model_sources() -> tuple[dict[str, str], str | None]:
    """name -> source of every model to load, and the configs of single-file models."""
    smoke = MarketplaceSettings().profile is Profile.SMOKE
    models = SETTINGS.configured_models(smoke)
    if smoke:
        from bentos.art.smoke import smoke_sources

        return smoke_sources(models)
    config = SETTINGS.single_file_config
    pinned = {name: local_source(source) for name, source in models.items()}
    return pinned, local_source(config) if config else None


@harden(model=True)
@bentoml.service(**model_service("art-painter", timeout=SERVICE_TIMEOUTS["art"]))
class CoverPainter:
    """Every configured Stable Diffusion pipeline, loaded once (fp16 on CUDA)."""

    def __init__(self) -> None:
        sources, single_file_config = model_sources()
        self.painter = Painter(
            sources,
            single_file_config=single_file_config,
            channels_last=SETTINGS.channels_last,
            compile_unet=SETTINGS.compile,
            max_images_per_call=SETTINGS.max_images_per_call,
        )

    @bentoml.api
    def models(self) -> list[str]:
        return self.painter.names

    @bentoml.api(**SETTINGS.batchable_api())
    def paint_batch(self, jobs: list[Job]) -> list[Painting]:
        return self.painter.paint(jobs)

    @bentoml.api
    async def cancel(self, ids: list[str]) -> None:
        # async: on the event loop, not behind paint_batch in the worker's one thread
        self.painter.cancel(ids)

    @bentoml.on_shutdown
    def stop(self) -> None:
        self.painter.stop()


@harden()
@bentoml.service(name="art", traffic={"timeout": SERVICE_TIMEOUTS["art"], "max_concurrency": 32})
class Art:
    """Front API: validation, prompt, seed; images through the batchable API."""

    painter = bentoml.depends(CoverPainter)

    def __init__(self) -> None:
        self.known: list[str] | None = None

    @api(
        route="/generate",
        input_spec=CoverRequest,
        errors=(UnknownModel, OverBudget, DeadlineExceeded, Cancelled),
    )
    async def generate(self, ctx: bentoml.Context, **fields: Any) -> CoverResult:
        """Album covers for a song: one image per model (all configured models by default).

        The prompt is the seed template with the genre, the emotion and the keywords as
        weighted themes (compel syntax), plus the summary as the song's story; it is
        returned with the seed, so the same request with that seed paints the same images.
        An unknown model answers 400 ``unknown_model`` with the list of known ones; a
        request over ``ART_MAX_MEGAPIXEL_STEPS`` (width x height x steps x images) 422
        ``over_budget``. Painting stops between denoising steps when the client goes away
        or the service's timeout passes, so the painter is free for the next request.
        """
        request = CoverRequest.model_construct(**fields)
        if self.known is None:
            self.known = list(await self.painter.to_async.models())
        models = request.models or self.known
        unknown = [m for m in models if m not in self.known]
        if unknown:
            raise UnknownModel(
                f"unknown model {', '.join(map(repr, unknown))}; known: {', '.join(self.known)}"
            )
        work = request.width * request.height * request.steps * len(models) / 1e6
        if work > SETTINGS.max_megapixel_steps:
            raise OverBudget(
                f"{len(models)} image(s) of {request.width}x{request.height} in {request.steps} "
                f"steps are {work:.1f} megapixel-steps; one request may ask for "
                f"{SETTINGS.max_megapixel_steps:g} (ART_MAX_MEGAPIXEL_STEPS): fewer models, "
                "steps or pixels"
            )
        cover = build_prompt(request.genre, request.emotion, request.keywords, request.summary)
        seed = request.seed if request.seed is not None else secrets.randbelow(2**32)
        # what every image of the request shares: prompts, seed, steps, guidance, size
        shared = {
            **cover.model_dump(),
            **request.model_dump(include={"steps", "guidance", "width", "height"}),
            "seed": seed,
        }
        deadline = time.time() + SERVICE_TIMEOUTS["art"]
        jobs = [
            Job(id=uuid.uuid4().hex, deadline=deadline, model=model, **shared) for model in models
        ]
        paintings = await self._paint(jobs, ctx)
        return CoverResult(
            **shared,
            images=[
                CoverImage(model=job.model, png=base64.b64encode(p.png).decode(), nsfw=p.nsfw)
                for job, p in zip(jobs, paintings, strict=True)
            ],
        )

    async def _paint(self, jobs: list[Job], ctx: bentoml.Context) -> list[Painting]:
        """Paint every job, one call each (the batcher groups them with other requests');
        if the client goes away or the request is cancelled, the painter stops them."""
        # One call per image, concurrently: the batcher groups them with other requests'.
        painting = asyncio.ensure_future(
            asyncio.gather(*(self.painter.to_async.paint_batch([job]) for job in jobs))
        )
        watching = asyncio.ensure_future(_until_disconnected(ctx))
        try:
            await asyncio.wait({painting, watching}, return_when=asyncio.FIRST_COMPLETED)
            if not painting.done():
                raise Cancelled("the client went away before the covers were painted")
            paintings = [Painting.model_validate(p) for (p,) in painting.result()]
        except BaseException:
            painting.cancel()
            with contextlib.suppress(Exception):  # shielded: runs even when cancelled
                await asyncio.shield(self.painter.to_async.cancel([job.id for job in jobs]))
            raise
        finally:
            watching.cancel()
        if any(p.cancelled for p in paintings):
            raise DeadlineExceeded(
                f"the covers were not painted within {SERVICE_TIMEOUTS['art']} s"
            )
        return paintings


async def _until_disconnected(ctx: bentoml.Context) -> None:
    request = ctx.request
    while not await request.is_disconnected():
        await asyncio.sleep(DISCONNECT_POLL_S)
    log.info("a client went away: its covers are cancelled")
