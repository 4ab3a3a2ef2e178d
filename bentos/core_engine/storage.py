"""A task's S3 objects: its inputs read, its outputs written, with the engine's credentials.

Each task brings its own storage (endpoint, region, bucket, keys), so a client is made
per task and closed with it; the credentials live only as long as the task.
"""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import AsyncIterator
from typing import Any

from bentos.core_engine.contract import ComputeRequest

# The extension of each media type an output can have: the engine reads an object's type
# from its key's extension (and loads .txt and .json for pipeline conditions).
EXTENSIONS = {
    "application/json": ".json",
    "text/plain": ".txt",
    "text/csv": ".csv",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "audio/mpeg": ".mp3",
    "audio/ogg": ".ogg",
    "application/pdf": ".pdf",
    "application/zip": ".zip",
}


class StorageError(Exception):
    """An object that could not be read or written; says which and why."""


def endpoint_url(host: str) -> str:
    return host if "://" in host else f"https://{host}"


class TaskStorage:
    """The bucket of one task."""

    def __init__(self, client: Any, bucket: str, max_bytes: int) -> None:
        self.client, self.bucket, self.max_bytes = client, bucket, max_bytes

    async def read(self, key: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            head = await self.client.head_object(Bucket=self.bucket, Key=key)
            size = int(head.get("ContentLength", 0))
            if size > self.max_bytes:
                raise StorageError(
                    f"'{key}' is {size / 2**20:.1f} MiB, over the bridge's limit of "
                    f"{self.max_bytes / 2**20:.0f} MiB (CORE_ENGINE_MAX_INPUT_MB)"
                )
            answer = await self.client.get_object(Bucket=self.bucket, Key=key)
            async with answer["Body"] as body:
                return await body.read()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            if code in ("404", "NoSuchKey"):
                raise StorageError(f"'{key}' is not in bucket '{self.bucket}'") from None
            raise StorageError(f"'{key}' could not be read from bucket '{self.bucket}' "
                               f"({code})") from None  # fmt: skip
        except BotoCoreError as exc:
            raise StorageError(f"'{key}' could not be read: {exc}") from None

    async def write(self, content: bytes, media: str) -> str:
        """Store ``content`` under a new key (a UUID and the media type's extension)."""
        from botocore.exceptions import BotoCoreError, ClientError

        key = f"{uuid.uuid4()}{EXTENSIONS.get(media, '')}"
        try:
            await self.client.put_object(
                Bucket=self.bucket, Key=key, Body=content, ContentType=media
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise StorageError(f"an output could not be written to bucket '{self.bucket}' "
                               f"({code})") from None  # fmt: skip
        except BotoCoreError as exc:
            raise StorageError(f"an output could not be written: {exc}") from None
        return key


@functools.cache
def _session() -> Any:
    """One botocore session for every task: it parses the S3 service model once."""
    from aiobotocore.session import get_session

    return get_session()


@contextlib.asynccontextmanager
async def task_storage(
    request: ComputeRequest, max_bytes: int, timeout_s: float
) -> AsyncIterator[TaskStorage]:
    from aiobotocore.config import AioConfig
    from botocore.exceptions import BotoCoreError

    config = AioConfig(
        connect_timeout=timeout_s, read_timeout=timeout_s, retries={"max_attempts": 3}
    )
    try:
        client = _session().create_client(
            "s3",
            endpoint_url=endpoint_url(request.s3_host),
            region_name=request.s3_region or None,
            aws_access_key_id=request.s3_access_key_id.get_secret_value(),
            aws_secret_access_key=request.s3_secret_access_key.get_secret_value(),
            config=config,
        )
        opened = await client.__aenter__()
    except (ValueError, BotoCoreError) as exc:
        raise StorageError(f"the storage at '{request.s3_host}' cannot be used: {exc}") from None
    try:
        yield TaskStorage(opened, request.s3_bucket, max_bytes)
    finally:
        await client.__aexit__(None, None, None)
