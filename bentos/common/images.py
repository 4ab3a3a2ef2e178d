"""Uploaded images, decoded safely: PNG, JPEG or WebP, checked against the limits from
the file's header before a pixel is decoded (a decompression bomb, a few KB that would
decode to gigabytes, is refused before it is), turned upright as the camera's EXIF tag
says, and as RGB."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from bentos.common.errors import CorruptImage, EmptyImage, ImageTooLarge, NotImage
from bentos.common.settings import ImageLimits

FORMATS = ("PNG", "JPEG", "WEBP")


def decode_image(path: Path | str, limits: ImageLimits | None = None) -> np.ndarray:
    """An RGB array (H, W, 3) uint8, or the client error that says what is wrong."""
    limits = limits or ImageLimits()
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise EmptyImage("the image file is empty")
    if size > limits.max_upload_bytes:
        raise ImageTooLarge(
            f"the image is {size / 2**20:.1f} MiB; the limit is {limits.max_upload_mb:g} MiB"
        )
    with warnings.catch_warnings():
        # our own limits decide, before decoding; PIL's bomb check stays as a backstop
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path, formats=FORMATS) as image:
                width, height = image.size
                if max(width, height) > limits.max_side or width * height > limits.max_pixels:
                    raise ImageTooLarge(
                        f"the image is {width} x {height} pixels; the limits are "
                        f"{limits.max_side} pixels a side and {limits.max_pixels:,} in all"
                    )
                image.load()
                upright = ImageOps.exif_transpose(image)
                return np.asarray(upright.convert("RGB"))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageTooLarge(f"the image would decode to too many pixels ({exc})") from None
        except UnidentifiedImageError:
            raise NotImage("not an image this service reads (PNG, JPEG or WebP)") from None
        except (OSError, SyntaxError, ValueError) as exc:
            raise CorruptImage(f"the image cannot be decoded: {exc}") from None
