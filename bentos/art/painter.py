"""Painting covers: many prompts, several models, one pipeline call per compatible group.

Each job is encoded alone with compel (both prompts, weights applied, long prompts kept
whole in 77-token chunks and the negative padded to the same length). Jobs for the same
model with the same steps, guidance, size and prompt length then share one pipeline call.
Grouping by prompt length means no job is padded for another's sake, and every job
draws its starting noise from its own seeded CPU generator: a job paints the same image
whether it runs alone or in a batch, on a given machine.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from dataclasses import dataclass

import torch
from pydantic import BaseModel, Field

from bentos.art.conditioning import PromptEncoder
from bentos.art.pipelines import Runtime, load_pipeline

log = logging.getLogger("bentoml.art")  # under "bentoml": shown in the service log


class Job(BaseModel):
    """One image to paint (also the item type of the service's batchable API)."""

    model: str
    prompt: str
    negative_prompt: str
    seed: int
    steps: int
    guidance: float
    width: int
    height: int


class Painting(BaseModel):
    png: bytes
    nsfw: bool = Field(description="the model's safety checker blacked the image out")


@dataclass
class _Model:
    pipe: object
    encode: PromptEncoder


class Painter:
    """The configured pipelines, loaded once, and the batched painting over them."""

    def __init__(
        self,
        sources: dict[str, str],
        *,
        runtime: Runtime | None = None,
        single_file_config: str | None = None,
        channels_last: bool = False,
        compile_unet: bool = False,
        max_images_per_call: int = 8,
    ) -> None:
        self.runtime = runtime or Runtime.detect()
        self.max_images_per_call = max_images_per_call
        self.models: dict[str, _Model] = {}
        for name, source in sources.items():
            pipe = load_pipeline(
                source,
                runtime=self.runtime,
                single_file_config=single_file_config,
                channels_last=channels_last,
                compile_unet=compile_unet,
            )
            self.models[name] = _Model(pipe, PromptEncoder(pipe))
        # A pipeline's scheduler keeps per-call state: one call at a time.
        self._lock = threading.Lock()

    @property
    def names(self) -> list[str]:
        return list(self.models)

    def paint(self, jobs: list[Job]) -> list[Painting]:
        """One painting per job, in order."""
        with self._lock, torch.inference_mode():
            encoded = [self._encode(job) for job in jobs]
            groups: dict[tuple, list[int]] = {}
            for i, (job, (embeds, _)) in enumerate(zip(jobs, encoded, strict=True)):
                key = (job.model, job.steps, job.guidance, job.width, job.height, embeds.shape[1])
                groups.setdefault(key, []).append(i)
            out: list[Painting | None] = [None] * len(jobs)
            for group in groups.values():
                for start in range(0, len(group), self.max_images_per_call):
                    index = group[start : start + self.max_images_per_call]
                    paintings = self._run([jobs[i] for i in index], [encoded[i] for i in index])
                    for i, painting in zip(index, paintings, strict=True):
                        out[i] = painting
        return [p for p in out if p is not None]

    def _encode(self, job: Job) -> tuple[torch.Tensor, torch.Tensor]:
        return self.models[job.model].encode(job.prompt, job.negative_prompt)

    def _run(self, jobs: list[Job], encoded: list[tuple[torch.Tensor, torch.Tensor]]):
        first = jobs[0]
        pipe = self.models[first.model].pipe
        start = time.perf_counter()
        result = pipe(
            prompt_embeds=torch.cat([e for e, _ in encoded]),
            negative_prompt_embeds=torch.cat([n for _, n in encoded]),
            num_inference_steps=first.steps,
            guidance_scale=first.guidance,
            width=first.width,
            height=first.height,
            generator=[torch.Generator("cpu").manual_seed(job.seed) for job in jobs],
        )
        log.info(
            "%s painted %d image(s) of %dx%d in %d steps in one call: %.1f s",
            first.model, len(jobs), first.width, first.height, first.steps,
            time.perf_counter() - start,
        )  # fmt: skip
        flagged = result.nsfw_content_detected or [False] * len(jobs)
        return [
            Painting(png=to_png(image), nsfw=bool(nsfw))
            for image, nsfw in zip(result.images, flagged, strict=True)
        ]


def to_png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
