"""The segment service over real HTTP (`bentoml serve`), with the model the segment
stages trained and registered (tests/conftest.py: segment_trained)."""

from __future__ import annotations

import asyncio
import base64
import io
import struct
import zlib
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from bentos.segment.categories import CATEGORIES, PALETTE
from stack.local import serve
from training.segment.synthetic import scene

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def segment_url(segment_trained: dict):
    env = {
        "SEGMENT_MODEL_TAG": segment_trained["tag"],
        "MARKETPLACE_PROFILE": "full",
        "IMAGE_MAX_UPLOAD_MB": "1",
        "IMAGE_MAX_PIXELS": "4000000",
        "IMAGE_MAX_SIDE": "4000",
    }
    with serve("bentos.segment.service:Segment", env=env, cwd=ROOT) as url:
        yield url


def encode(pixels: np.ndarray, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def post(url: str, content: bytes, name: str = "street.png", **form: str) -> httpx.Response:
    return httpx.post(f"{url}/segment", files={"image": (name, content)}, data=form, timeout=60)


def png_of(b64: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(b64)))


def test_the_mask_has_the_photo_size_and_the_category_palette(
    segment_url: str, segment_trained: dict
) -> None:
    image, _ = scene(7, 170, 300)  # neither the model's size (64 x 128) nor its aspect
    answer = post(segment_url, encode(image))
    assert answer.status_code == 200, answer.text
    result = answer.json()
    mask = png_of(result["mask"])
    assert mask.format == "PNG" and mask.mode == "P" and mask.size == (300, 170)
    palette = mask.getpalette()[: 3 * len(CATEGORIES)]
    assert palette == [c for name in CATEGORIES for c in PALETTE[name]]
    ids = np.asarray(mask)
    assert int(ids.max()) < len(CATEGORIES)
    assert (result["width"], result["height"]) == (300, 170)
    assert set(result["shares"]) == set(CATEGORIES)
    assert sum(result["shares"].values()) == pytest.approx(1.0)
    for i, name in enumerate(CATEGORIES):  # the shares are the mask's
        assert result["shares"][name] == pytest.approx((ids == i).mean(), abs=1e-6)
    shares = [result["shares"][c] for c in result["present"]]
    assert shares == sorted(shares, reverse=True) and min(shares) >= 0.01
    assert result["description"].startswith("A street scene: ")
    assert result["model"] == segment_trained["tag"]
    assert result["overlay"] is None  # only when asked


def test_a_trained_model_finds_the_scene_and_overlays_it(segment_url: str) -> None:
    image, truth = scene(424242, 128, 256)  # unseen by training
    result = post(segment_url, encode(image), overlay="true").json()
    predicted = np.asarray(png_of(result["mask"]))
    # a few epochs on 32 tiny scenes: far from the pipeline's bar, far above chance too
    assert (predicted == truth).mean() > 0.6
    overlay = png_of(result["overlay"])
    assert overlay.mode == "RGB" and overlay.size == (256, 128)


def test_jpeg_webp_and_an_exif_rotated_photo_are_read(segment_url: str) -> None:
    image, _ = scene(11, 100, 160)
    for fmt in ("JPEG", "WEBP"):
        result = post(segment_url, encode(image, fmt), f"street.{fmt.lower()}").json()
        assert (result["width"], result["height"]) == (160, 100), fmt
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: the camera was turned; show it rotated 90 degrees
    result = post(segment_url, encode(image, "JPEG", exif=exif.tobytes()), "phone.jpg").json()
    assert (result["width"], result["height"]) == (100, 160)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a size and holds no pixels: how a decompression bomb starts."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def test_every_bad_image_gets_its_own_4xx(segment_url: str) -> None:
    image, _ = scene(3, 64, 128)
    png = encode(image)
    noisy = np.random.default_rng(0).integers(0, 256, (700, 700, 3), dtype=np.uint8)
    cases = {
        "empty": (b"", 400, "empty_image"),
        "text": (b"a street, but in words\n" * 20, 415, "not_image"),
        "gif": (encode(image, "GIF"), 415, "not_image"),
        "truncated": (png[: len(png) // 2], 422, "corrupt_image"),
        "bytes": (encode(noisy), 413, "image_too_large"),  # 1.4 MB of noise: over 1 MiB
        "pixels": (encode(np.zeros((2100, 2100, 3), np.uint8)), 413, "image_too_large"),
        "side": (encode(np.zeros((10, 4100, 3), np.uint8)), 413, "image_too_large"),
        "bomb": (png_header_only(60_000, 60_000), 413, "image_too_large"),
    }
    for name, (content, status, code) in cases.items():
        answer = post(segment_url, content, f"{name}.png")
        assert answer.status_code == status, (name, answer.text)
        assert answer.json()["error"] == code, name
        assert answer.json()["detail"], name
    answer = httpx.post(f"{segment_url}/segment", files={"overlay": (None, "true")}, timeout=30)
    assert answer.json() == {"error": "invalid_request", "detail": "image: Field required"}
    answer = httpx.post(f"{segment_url}/segment", files={"image": ("a.png", png)},
                        data={"overlay": "maybe"}, timeout=30)  # fmt: skip
    assert answer.status_code == 400 and answer.json()["detail"].startswith("overlay: ")
    # a file under another name: BentoML reads it as text and fails; still the client's
    answer = httpx.post(f"{segment_url}/segment", files={"photo": ("a.png", png)}, timeout=30)
    assert answer.status_code == 400 and answer.json()["error"] == "malformed_request"


def test_concurrent_photos_share_a_forward_pass_and_get_their_own_masks(
    segment_url: str,
) -> None:
    photos = [encode(scene(100 + i, 90 + 10 * i, 200)[0]) for i in range(6)]
    alone = [post(segment_url, photo).json()["mask"] for photo in photos]

    async def together() -> list[str]:
        async with httpx.AsyncClient(timeout=60) as client:
            answers = await asyncio.gather(*(
                client.post(f"{segment_url}/segment", files={"image": ("s.png", photo)})
                for photo in photos
            ))  # fmt: skip
        return [a.json()["mask"] for a in answers]

    for single, batched in zip(alone, asyncio.run(together()), strict=True):
        a, b = np.asarray(png_of(single)), np.asarray(png_of(batched))
        assert a.shape == b.shape
        assert (a == b).mean() > 0.999  # the same answer, to float rounding at ties


def test_docs_json_lists_segment_with_its_schemas(segment_url: str) -> None:
    spec = httpx.get(f"{segment_url}/docs.json", timeout=10).json()
    operation = spec["paths"]["/segment"]["post"]
    assert "multipart/form-data" in operation["requestBody"]["content"]
    schemas = spec["components"]["schemas"]
    result = next(s for s in schemas.values() if "shares" in s.get("properties", {}))
    assert {"mask", "overlay", "shares", "present", "model"} <= set(result["properties"])
