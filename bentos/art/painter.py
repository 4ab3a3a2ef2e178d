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
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

if TYPE_CHECKING:  # torch and diffusers load with the pipelines, not at import
    import torch

    from bentos.art.conditioning import PromptEncoder
    from bentos.art.pipelines import Runtime

log = logging.getLogger("bentoml.art")  # under "bentoml": shown in the service log


class Job(BaseModel):
    """One image to paint (also the item type of the service's batchable API)."""

    id: str = Field("", description="names the job for cancel(); empty: not cancellable")
    deadline: float = Field(float("inf"), description="time.time() past which it is dropped")
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
    cancelled: bool = Field(False, description="stopped before its last step: not a cover")


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
        from bentos.art.conditioning import PromptEncoder
        from bentos.art.pipelines import Runtime, load_pipeline

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
        self._cancelled: set[str] = set()
        self._stopping = False

    def cancel(self, ids: list[str]) -> None:
        """Stop painting these jobs: a call whose every job is cancelled stops at its next
        denoising step (a job still queued is dropped when its turn comes)."""
        self._cancelled.update(i for i in ids if i)

    def stop(self) -> None:
        """Stop every call at its next step (the service is shutting down)."""
        self._stopping = True

    def _dropped(self, job: Job) -> bool:
        return self._stopping or job.id in self._cancelled or time.time() > job.deadline

    @property
    def names(self) -> list[str]:
        return list(self.models)

    def paint(self, jobs: list[Job]) -> list[Painting]:
        """One painting per job, in order."""
        import torch

        with self._lock, torch.inference_mode():
            encoded = [self._encode(job) for job in jobs]
            groups: dict[tuple, list[int]] = {}
            for i, (job, (embeds, _)) in enumerate(zip(jobs, encoded, strict=True)):
                key = (job.model, job.steps, job.guidance, job.width, job.height, embeds.shape[1])
                groups.setdefault(key, []).append(i)
            out: list[Painting] = [DROPPED] * len(jobs)
            for group in groups.values():
                for start in range(0, len(group), self.max_images_per_call):
                    index = group[start : start + self.max_images_per_call]
                    index = [i for i in index if not self._dropped(jobs[i])]
                    if not index:
                        continue
                    paintings = self._run([jobs[i] for i in index], [encoded[i] for i in index])
                    for i, painting in zip(index, paintings, strict=True):
                        out[i] = painting
        self._cancelled.difference_update(job.id for job in jobs)
        return out

    def _encode(self, job: Job) -> tuple[torch.Tensor, torch.Tensor]:
        return self.models[job.model].encode(job.prompt, job.negative_prompt)

    def _run(self, jobs: list[Job], encoded: list[tuple[torch.Tensor, torch.Tensor]]):
        import torch

        first = jobs[0]
        pipe = self.models[first.model].pipe
        start = time.perf_counter()
        stopped = []

        def between_steps(pipe, step: int, timestep, kwargs: dict) -> dict:
            if all(self._dropped(job) for job in jobs):
                pipe._interrupt = True  # diffusers skips the remaining steps
                stopped.append(step)
            return kwargs

        result = pipe(
            prompt_embeds=torch.cat([e for e, _ in encoded]),
            negative_prompt_embeds=torch.cat([n for _, n in encoded]),
            num_inference_steps=first.steps,
            guidance_scale=first.guidance,
            width=first.width,
            height=first.height,
            generator=[torch.Generator("cpu").manual_seed(job.seed) for job in jobs],
            callback_on_step_end=between_steps,
        )
        if stopped:
            log.info("%s: %d image(s) cancelled at step %d", first.model, len(jobs), stopped[0])
            return [DROPPED] * len(jobs)
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


DROPPED = Painting(png=b"", nsfw=False, cancelled=True)


def to_png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
