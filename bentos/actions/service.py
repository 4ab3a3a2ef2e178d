"""Shop-video action recognition: a surveillance video in, the shoppers' actions in time
out (MERL Shopping's five actions and background), as segments and a per-second timeline.

``POST /recognize`` answers when done (for short videos and the pipelines, which the
studio runs durably); ``POST /submit`` checks the video, answers a task id at once and
recognises it in the background, ``/status`` tells its stage and progress, ``/result``
its answer, ``/cancel`` stops it. Two BentoML services: ``Actions`` (the front) checks
and decodes the video at the model's rate and size and computes the optical flow in
threads; ``ActionNet`` holds the two-stream network behind one batchable API, so the
windows of concurrent videos share forward passes.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import bentoml
import numpy as np
from pydantic import Field

from bentos.actions.flow import dense_flow
from bentos.actions.inference import cut_windows, segments_of
from bentos.actions.model_files import ActionsModel, read_config
from bentos.actions.settings import ActionsSettings
from bentos.actions.tasks import Task, Tasks
from bentos.actions.video import VideoLimits, decode, probe
from bentos.common.errors import (
    VIDEO_ERRORS,
    TaskCancelled,
    TaskNotDone,
    TooManyRequests,
    UnknownTask,
    VideoTooLarge,
)
from bentos.common.http import api, harden
from bentos.common.settings import SERVICE_TIMEOUTS, model_service
from bentos.common.store import find_model
from marketplace.contracts.schemas import (
    VIDEO_UPLOAD,
    ActionSegment,
    ActionsResult,
    ActionTimeline,
    TaskStatus,
)

SETTINGS = ActionsSettings()
LIMITS = VideoLimits()
TASK_ID = Field(description="the id /submit answered", min_length=1, max_length=64)
PREVIEW = Field(description="also answer the video with each moment's action written on it")


@harden(model=True)
@bentoml.service(**model_service("action-net", timeout=SERVICE_TIMEOUTS["actions"]))
class ActionNet:
    """The two-stream network, loaded once; class probabilities of batches of windows."""

    model_ref = bentoml.models.BentoModel(SETTINGS.model_tag)

    def __init__(self) -> None:
        import torch  # here, not at import: the front and the other services never load it

        if SETTINGS.torch_threads:
            torch.set_num_threads(SETTINGS.torch_threads)
        stored = find_model(SETTINGS.model_tag, "ACTIONS_MODEL_TAG")
        self.model = ActionsModel.load(stored.path, SETTINGS.device)

    @bentoml.api(**SETTINGS.batchable_api())
    def windows(self, windows: np.ndarray) -> np.ndarray:
        """Softmax ``(N, classes)`` of windows ``(N, T, H, W, 5)`` float16: RGB in [0, 1]
        then the flow's x and y in [-1, 1]."""
        import torch

        x = torch.from_numpy(np.ascontiguousarray(windows)).to(self.model.device).float()
        x = x.permute(0, 4, 1, 2, 3)
        with torch.inference_mode():
            logits = self.model.network(x[:, :3], x[:, 3:])
        return torch.softmax(logits, dim=1).cpu().numpy()


def pack(rgb: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Windows as the worker takes them: one float16 array of 5 channels."""
    return np.concatenate([rgb.astype(np.float16) / 255, flow.astype(np.float16)], axis=-1)


@harden(upload_limit=LIMITS.max_bytes, upload_error=VideoTooLarge)
@bentoml.service(
    name="actions",
    workers=1,
    traffic={"timeout": SERVICE_TIMEOUTS["actions"], "max_concurrency": 64},
)
class Actions:
    """Front API: checks, decodes and computes the flow; cuts windows; makes segments."""

    model_ref = bentoml.models.BentoModel(SETTINGS.model_tag)
    net = bentoml.depends(ActionNet)

    def __init__(self) -> None:
        stored = find_model(SETTINGS.model_tag, "ACTIONS_MODEL_TAG")
        self.model_tag = str(stored.tag)
        self.config = read_config(stored.path)
        self.tasks: Tasks | None = None  # made in the serving loop, on first use

    def _tasks(self) -> Tasks:
        if self.tasks is None:
            self.tasks = Tasks(SETTINGS.max_running, SETTINGS.max_tasks, SETTINGS.task_ttl_s)
        return self.tasks

    async def _recognise(
        self, path: Path, preview: bool, task: Task | None = None
    ) -> ActionsResult:
        def report(stage: str, progress: float) -> None:
            if task is not None:
                task.report(stage, progress)

        c = self.config
        report("decoding", 0.0)
        frames, _ = await asyncio.to_thread(decode, path, c.fps, c.height, c.width,
                                            LIMITS.max_seconds)  # fmt: skip
        report("flow", 0.15)
        flow = await asyncio.to_thread(dense_flow, frames)
        length = c.spec["frames"]
        starts, rgb, motion = cut_windows(frames, flow, length, c.stride)
        probs = []
        step = SETTINGS.chunk_windows
        for i in range(0, len(starts), step):
            report("recognising", 0.35 + 0.6 * i / len(starts))
            chunk = pack(rgb[i : i + step], motion[i : i + step])
            probs.append(np.asarray(await self.net.to_async.windows(chunk)))
        frame_probs, segments = segments_of(np.concatenate(probs), starts, length, len(frames),
                                            c.fps, c.smooth_seconds, c.min_seconds)  # fmt: skip
        report("answering", 0.97)
        video = None
        if preview:
            from bentos.actions.preview import annotated

            video = await asyncio.to_thread(annotated, frames, frame_probs, c.classes, c.fps)
        return answer(frame_probs, segments, c.classes, c.fps, video, self.model_tag)

    @api(route="/recognize", errors=VIDEO_ERRORS)
    async def recognize(
        self, video: Annotated[Path, VIDEO_UPLOAD], preview: Annotated[bool, PREVIEW] = False
    ) -> ActionsResult:
        """Recognise the shoppers' actions over a whole video; answers when done.

        Bad input answers 400 (empty), 413 (too many bytes, too long, frames too large),
        415 (not mp4, webm, mkv or avi; no video stream), 422 (corrupt, a frame rate
        out of bounds), with ``{"error", "detail"}``.
        """
        await asyncio.to_thread(probe, video, LIMITS)
        return await self._recognise(video, preview)

    @api(route="/submit", errors=(*VIDEO_ERRORS, TooManyRequests))
    async def submit(
        self, video: Annotated[Path, VIDEO_UPLOAD], preview: Annotated[bool, PREVIEW] = False
    ) -> TaskStatus:
        """Check a video and recognise it in the background: answers its task at once
        (poll ``/status``, then ``/result``). The same 4xx as ``/recognize`` for a bad
        video; 429 when too many videos wait."""
        await asyncio.to_thread(probe, video, LIMITS)
        kept = Path(tempfile.mkdtemp(prefix="actions-task-")) / video.name
        await asyncio.to_thread(shutil.copyfile, video, kept)  # BentoML removes the upload
        task = self._tasks().submit(
            lambda task: self._recognise(kept, preview, task),
            cleanup=lambda: shutil.rmtree(kept.parent, ignore_errors=True),
        )
        return task.view()

    @api(route="/status", errors=(UnknownTask,))
    async def status(self, task_id: Annotated[str, TASK_ID]) -> TaskStatus:
        """A task's status (queued, running, done, failed, cancelled), stage and progress."""
        return self._tasks().get(task_id).view()

    @api(route="/result", errors=(*VIDEO_ERRORS, UnknownTask, TaskNotDone, TaskCancelled))
    async def result(self, task_id: Annotated[str, TASK_ID]) -> ActionsResult:
        """A done task's answer; 409 while it runs; a failed task's error as its status."""
        return self._tasks().result(task_id)

    @api(route="/cancel", errors=(UnknownTask,))
    async def cancel(self, task_id: Annotated[str, TASK_ID]) -> TaskStatus:
        """Stop a task (a finished one is left as it is); its status after."""
        task = self._tasks().cancel(task_id)
        if task.runner is not None and not task.runner.done():
            await asyncio.wait([task.runner], timeout=5)
        return task.view()


def answer(
    probs: np.ndarray, segments: list, classes: list[str], fps: float, preview: str | None,
    model: str,
) -> ActionsResult:  # fmt: skip
    duration = len(probs) / fps
    per_second = [probs[int(s * fps) : max(int(s * fps) + 1, int((s + 1) * fps))].mean(axis=0)
                  for s in range(int(np.ceil(duration)))]  # fmt: skip
    timeline = ActionTimeline(
        seconds=[float(s) for s in range(len(per_second))],
        probabilities=[{c: round(float(p[i]), 4) for i, c in enumerate(classes)}
                       for p in per_second],
    )  # fmt: skip
    return ActionsResult(
        segments=[ActionSegment(label=classes[s.label], start=round(s.start / fps, 3),
                                end=round(s.end / fps, 3), confidence=s.confidence)
                  for s in segments],
        timeline=timeline, duration=round(duration, 3), fps=fps, preview=preview, model=model,
    )  # fmt: skip
