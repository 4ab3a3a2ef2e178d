"""The engine's calls through the studio's BentoML dependencies.

Each dependency is a model service: started inside the studio's Bento (``bentoml serve``
at the repository root), or reached by URL in a cluster (``MARKETPLACE_<SERVICE>_URL``).
Answers are the same JSON, and failures the same :class:`~marketplace.calls.CallFailed`,
as over plain HTTP, so the engine treats both alike.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from marketplace.calls import CallFailed, FileValue, answered
from marketplace.contracts.catalogue import Endpoint


class DependencyCaller:
    """:class:`~marketplace.calls.Caller` over ``bentoml.depends`` proxies."""

    def __init__(self, services: Any) -> None:
        self.services = services  # the Studio instance: .youtube, .transcribe, ... proxies

    async def call(self, service: str, endpoint: Endpoint, inputs: dict[str, Any]) -> dict:
        import aiohttp
        import httpx
        from bentoml.exceptions import BentoMLException

        method = getattr(getattr(self.services, service).to_async, endpoint.name)
        with _files_on_disk(inputs) as arguments:
            try:
                result = await method(**arguments)
            except BentoMLException as exc:  # the service answered with an error status
                raise answered(service, int(exc.error_code), exc.message) from exc
            except (httpx.TransportError, aiohttp.ClientConnectionError, ConnectionError) as exc:
                raise CallFailed(
                    f"{service} service did not answer ({type(exc).__name__}: {exc})",
                    retryable=True,
                ) from exc
        if isinstance(result, BaseModel):
            return result.model_dump(mode="json")
        return result


@contextlib.contextmanager
def _files_on_disk(inputs: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The inputs with each file as a path (BentoML sends file parameters by path)."""
    if not any(isinstance(v, FileValue) for v in inputs.values()):
        yield inputs
        return
    with tempfile.TemporaryDirectory(prefix="studio-call-") as tmp:
        arguments = dict(inputs)
        for i, (name, value) in enumerate(inputs.items()):
            if isinstance(value, FileValue):
                path = Path(tmp) / str(i) / (Path(value.name).name or name)
                path.parent.mkdir()
                path.write_bytes(value.content)
                arguments[name] = path
        yield arguments
