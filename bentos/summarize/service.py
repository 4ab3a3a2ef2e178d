"""Summarisation service: ``POST /summarize`` with ``{"text", "max_words"?}``.

The front validates; ``SummarizerModel`` has one batchable API over texts, so texts of
concurrent requests share the model's ``generate`` calls (adaptive batching).
"""

from __future__ import annotations

from typing import Annotated

import bentoml
from annotated_types import Ge, Le
from pydantic import BaseModel, Field

from bentos.common.errors import TEXT_ERRORS
from bentos.common.http import api, harden
from bentos.common.pinned import local_source
from bentos.common.settings import SERVICE_TIMEOUTS, MarketplaceSettings, Profile, model_service
from bentos.common.text_input import check_text
from bentos.summarize.settings import SummarizeSettings
from bentos.summarize.summarizer import Summarizer
from marketplace.contracts.schemas import SummaryResult

SETTINGS = SummarizeSettings()


class SummaryItem(BaseModel):
    text: str
    max_words: int


def model_source() -> str:
    if MarketplaceSettings().profile is Profile.SMOKE:
        from bentos.summarize.smoke import smoke_model

        return smoke_model()
    return local_source(SETTINGS.model)


@harden(model=True)
@bentoml.service(**model_service("summarize-model", timeout=SERVICE_TIMEOUTS["summarize"]))
class SummarizerModel:
    """The seq2seq model, loaded once."""

    def __init__(self) -> None:
        self.summarizer = Summarizer(model_source(), num_beams=SETTINGS.num_beams)

    @bentoml.api(**SETTINGS.batchable_api())
    def summarize_batch(self, items: list[SummaryItem]) -> list[SummaryResult]:
        results = self.summarizer.summarize([(i.text, i.max_words) for i in items])
        return [SummaryResult(summary=s, chunks=n) for s, n in results]


@harden()
@bentoml.service(
    name="summarize", traffic={"timeout": SERVICE_TIMEOUTS["summarize"], "max_concurrency": 64}
)
class Summarize:
    """Front API: validates the text, then summarises through the batchable API."""

    model = bentoml.depends(SummarizerModel)

    @api(route="/summarize", errors=TEXT_ERRORS)
    async def summarize(
        self,
        text: Annotated[str, Field(description="the text to summarise (any length)")],
        max_words: Annotated[int, Ge(5), Le(500), Field(description="summary length")] = 60,
    ) -> SummaryResult:
        """Summary of a text; long texts are summarised in chunks, then summarised again.

        Bad input answers 400 (empty text, no words) or 413 (over ``SUMMARIZE_MAX_TEXT_CHARS``).
        """
        text = check_text(text, SETTINGS.max_text_chars, "SUMMARIZE_MAX_TEXT_CHARS")
        (result,) = await self.model.to_async.summarize_batch(
            [SummaryItem(text=text, max_words=max_words)]
        )
        return SummaryResult.model_validate(result)
