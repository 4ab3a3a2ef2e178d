"""Street-scene segmentation service: ``POST /segment`` with a photo, answers the mask of
Cityscapes' 8 categories at the photo's size, each category's share, and an overlay.

Two BentoML services. ``Segment`` (the front) decodes and checks the upload, resizes it
to the model's input size and, after the model, resizes the mask back (nearest
neighbour) and encodes the PNGs. ``Segmenter`` holds the network behind one batchable
API: the images of concurrent requests, all at the model's size, share one forward pass.
"""

from __future__ import annotations

import asyncio
import base64
import io
from pathlib import Path
from typing import Annotated

import bentoml
import numpy as np
from PIL import Image
from pydantic import Field

from bentos.common.errors import IMAGE_ERRORS, ImageTooLarge
from bentos.common.http import api, harden
from bentos.common.images import decode_image
from bentos.common.settings import SERVICE_TIMEOUTS, ImageLimits, model_service
from bentos.common.store import find_model
from bentos.segment.categories import CATEGORIES, colourise, describe, paletted, shares
from bentos.segment.model_files import SegmentModel, read_config
from bentos.segment.settings import SegmentSettings
from marketplace.contracts.schemas import IMAGE_UPLOAD, SegmentResult

SETTINGS = SegmentSettings()
PRESENT_SHARE = 0.01  # a category "present" covers at least this share of the image


@harden(model=True)
@bentoml.service(**model_service("segmenter", timeout=SERVICE_TIMEOUTS["segment"]))
class Segmenter:
    """The network, loaded once; segments batches of images at the model's input size."""

    # Resolved when a worker starts (or `bentoml build` bundles it), not at import.
    model_ref = bentoml.models.BentoModel(SETTINGS.model_tag)

    def __init__(self) -> None:
        import torch  # here, not at import: the front and the other services never load it

        if SETTINGS.torch_threads:
            torch.set_num_threads(SETTINGS.torch_threads)
        stored = find_model(SETTINGS.model_tag, "SEGMENT_MODEL_TAG")
        self.model = SegmentModel.load(stored.path, SETTINGS.device)

    @bentoml.api(**SETTINGS.batchable_api())
    def segment(self, images: np.ndarray) -> np.ndarray:
        """Category ids ``(N, H, W)`` uint8 of images ``(N, H, W, 3)`` uint8."""
        import torch

        return self.model.predict(torch.from_numpy(np.ascontiguousarray(images))).numpy()


def png_base64(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=6)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


@harden(upload_limit=ImageLimits().max_upload_bytes, upload_error=ImageTooLarge)
@bentoml.service(
    name="segment", traffic={"timeout": SERVICE_TIMEOUTS["segment"], "max_concurrency": 32}
)
class Segment:
    """Front API: validates and decodes the upload, resizes, encodes the answer."""

    model_ref = bentoml.models.BentoModel(SETTINGS.model_tag)
    segmenter = bentoml.depends(Segmenter)

    def __init__(self) -> None:
        stored = find_model(SETTINGS.model_tag, "SEGMENT_MODEL_TAG")
        self.model_tag = str(stored.tag)
        self.config = read_config(stored.path)
        self.limits = ImageLimits()

    @api(route="/segment", errors=IMAGE_ERRORS)
    async def segment(
        self,
        image: Annotated[Path, IMAGE_UPLOAD],
        overlay: Annotated[
            bool, Field(description="also answer the photo with the mask blended over it")
        ] = False,
    ) -> SegmentResult:
        """Segment a street photo into Cityscapes' 8 categories (void, flat,
        construction, object, nature, sky, human, vehicle).

        Bad input answers 400 (empty), 413 (too many bytes or pixels, decompression
        bombs included), 415 (not PNG, JPEG or WebP) or 422 (corrupt), with
        ``{"error", "detail"}``.
        """
        pixels, model_input = await asyncio.to_thread(self._prepare, image)
        masks = await self.segmenter.to_async.segment(model_input)
        return await asyncio.to_thread(self._answer, pixels, np.asarray(masks)[0], overlay)

    def _prepare(self, path: Path) -> tuple[np.ndarray, np.ndarray]:
        pixels = decode_image(path, self.limits)
        size = (self.config.width, self.config.height)
        resized = Image.fromarray(pixels).resize(size, Image.Resampling.BILINEAR)
        return pixels, np.asarray(resized)[None]

    def _answer(self, pixels: np.ndarray, small: np.ndarray, overlay: bool) -> SegmentResult:
        height, width = pixels.shape[:2]
        ids = np.asarray(
            Image.fromarray(small.astype(np.uint8)).resize(
                (width, height), Image.Resampling.NEAREST
            )
        )
        blended = None
        if overlay:
            colours = colourise(ids).astype(np.float32)
            mixed = (1 - SETTINGS.overlay_opacity) * pixels + SETTINGS.overlay_opacity * colours
            blended = png_base64(Image.fromarray(mixed.round().astype(np.uint8)))
        share = shares(ids)
        present = sorted(
            (c for c in CATEGORIES if share[c] >= PRESENT_SHARE), key=lambda c: -share[c]
        )
        return SegmentResult(
            mask=png_base64(paletted(ids)), overlay=blended, shares=share, present=present,
            description=describe(share, present), width=width, height=height,
            model=self.model_tag,
        )  # fmt: skip
