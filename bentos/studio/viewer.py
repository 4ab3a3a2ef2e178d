"""The segmentation viewer's API (``/api/segment``): sample street scenes with their true
masks, each segmented by the segment service and scored against its truth (per-category
IoU of that image), and any uploaded photo segmented.

Samples are a folder of ``<name>.png|.jpg|.webp`` photos, each with an optional
``<name>_mask.png`` of category ids (0-7, Cityscapes' categories): ``STUDIO_SEGMENT_SAMPLES``,
by default the synthetic scenes shipped with the studio. A split written by the
``segment_prepare`` stage (``data/segment/test``) has this layout.
"""

from __future__ import annotations

import base64
import io
from http import HTTPStatus
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import APIRouter, Request, UploadFile
from fastapi.responses import FileResponse, Response
from PIL import Image
from pydantic import BaseModel, Field

from bentos.common.errors import ClientError, NotFound, ServerError
from bentos.segment.categories import paletted
from bentos.segment.metrics import confusion, scores
from bentos.studio.api import UploadTooLarge
from marketplace.calls import CallFailed, FileValue
from marketplace.contracts.schemas import CATEGORIES, SegmentResult

SHIPPED = Path(__file__).resolve().parent / "samples" / "segment"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
MASK_SUFFIX = "_mask.png"
CALL = "segment/segment"

router = APIRouter(prefix="/api/segment", tags=["segmentation viewer"])


class Sample(BaseModel):
    name: str
    image: str = Field(description="where the photo is")
    truth: str | None = Field(description="where its true mask is (palette PNG), if any")


class Scored(BaseModel):
    """The segment service's answer, and how it compares with the true mask."""

    result: SegmentResult
    miou: float | None = Field(description="mean IoU over the categories present")
    pixel_accuracy: float | None
    iou: dict[str, float | None] = Field(description="per category; null: in neither mask")


class SegmentFailed(ServerError):
    code = "segment_failed"


def samples_dir(request: Request) -> Path:
    chosen = request.app.state.context.settings.segment_samples
    return Path(chosen) if chosen else SHIPPED


def _samples(folder: Path) -> dict[str, tuple[Path, Path | None]]:
    found: dict[str, tuple[Path, Path | None]] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in IMAGE_SUFFIXES and not path.name.endswith(MASK_SUFFIX):
            mask = path.with_name(path.stem + MASK_SUFFIX)
            found[path.stem] = (path, mask if mask.is_file() else None)
    return found


def _sample(request: Request, name: str) -> tuple[Path, Path | None]:
    found = _samples(samples_dir(request)).get(name)
    if found is None:
        raise NotFound(f"no sample '{name}'")
    return found


@router.get("/samples")
def list_samples(request: Request) -> list[Sample]:
    """The sample scenes of the viewer's folder."""
    return [
        Sample(
            name=name,
            image=f"/api/segment/samples/{name}/image",
            truth=f"/api/segment/samples/{name}/truth" if mask else None,
        )
        for name, (_, mask) in _samples(samples_dir(request)).items()
    ]


@router.get("/samples/{name}/image", response_class=FileResponse)
def sample_image(request: Request, name: str) -> FileResponse:
    return FileResponse(_sample(request, name)[0])


@router.get("/samples/{name}/truth", response_class=Response)
def sample_truth(request: Request, name: str) -> Response:
    """The true mask, in the category palette whatever the file's own."""
    mask = _sample(request, name)[1]
    if mask is None:
        raise NotFound(f"sample '{name}' has no true mask")
    return Response(_palette_png(_ids(mask)), media_type="image/png")


@router.post("/samples/{name}")
async def segment_sample(request: Request, name: str) -> Scored:
    """Segment a sample and score the answer against its true mask."""
    image, mask = _sample(request, name)
    result = await _segment(request, FileValue.read(image))
    if mask is None:
        return Scored(result=result, miou=None, pixel_accuracy=None, iou={})
    truth = _ids(mask)
    predicted = np.asarray(Image.open(io.BytesIO(base64.b64decode(result.mask))))
    if truth.shape != predicted.shape:
        raise ClientError(f"sample '{name}': its mask is {truth.shape[::-1]}, the photo "
                          f"{predicted.shape[::-1]}")  # fmt: skip
    score = scores(confusion(np.minimum(truth, len(CATEGORIES) - 1), predicted))
    return Scored(result=result, miou=score["miou"], pixel_accuracy=score["pixel_accuracy"],
                  iou=score["iou"])  # fmt: skip


@router.post("")
async def segment_upload(request: Request, image: UploadFile) -> SegmentResult:
    """Segment an uploaded photo (multipart field ``image``)."""
    settings = request.app.state.context.settings
    limit = int(settings.max_upload_mb * 2**20)
    content = await image.read(limit + 1)
    if len(content) > limit:
        raise UploadTooLarge(f"the photo is over {settings.max_upload_mb:g} MiB "
                             "(STUDIO_MAX_UPLOAD_MB)")  # fmt: skip
    return await _segment(request, FileValue(image.filename or "photo", content))


async def _segment(request: Request, photo: FileValue) -> SegmentResult:
    ctx = request.app.state.context
    endpoint = ctx.catalogue.endpoint(CALL)
    try:
        answer: dict[str, Any] = await ctx.runs.caller.call(
            "segment", endpoint, {"image": photo, "overlay": True}
        )
    except CallFailed as exc:
        if exc.status is not None and 400 <= exc.status < 500:
            raise Refused(exc) from None
        raise SegmentFailed(str(exc)) from None
    return SegmentResult.model_validate(answer)


class Refused(ClientError):
    """The segment service's own 4xx (a photo it cannot read), passed on."""

    def __init__(self, exc: CallFailed) -> None:
        super().__init__(str(exc))
        self.status = HTTPStatus(exc.status or 400)
        self.code = exc.code or "bad_request"


def _ids(path: Path) -> np.ndarray:
    with Image.open(path) as mask:
        return np.asarray(mask if mask.mode in ("P", "L") else mask.convert("L"))


def _palette_png(ids: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    paletted(ids).save(buffer, format="PNG")
    return buffer.getvalue()
