"""The painter in-process, on tiny random pipelines loaded through the service's own code."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from bentos.art.painter import Job, Painter
from bentos.art.prompt import build_prompt
from bentos.art.smoke import build_tiny, config_folder
from marketplace.contracts.schemas import Keyword

COVER = build_prompt("Rock", "sadness", [Keyword(word="fire", score=1.0)])
STORY = build_prompt(
    "Rock",
    "sadness",
    [Keyword(word="fire", score=1.0)],
    summary="A man walks home in the rain and remembers every summer of his youth, the "
    "friends he lost and the song that played when he first fell in love with the sea.",
)


def job(model: str = "folder", seed: int = 1, cover=COVER, **kw) -> Job:
    settings = {"steps": 2, "guidance": 5.0, "width": 256, "height": 256, **kw}
    return Job(
        model=model, prompt=cover.prompt, negative_prompt=cover.negative_prompt, seed=seed,
        **settings,
    )  # fmt: skip


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png))).astype(int)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("art")
    return {
        "folder": build_tiny(root / "folder", seed=0),
        "file": build_tiny(root / "file.safetensors", seed=1),
    }


@pytest.fixture(scope="module")
def painter(tiny: dict[str, Path]) -> Painter:
    sources = {name: str(path) for name, path in tiny.items()}
    return Painter(sources, single_file_config=str(config_folder(tiny["file"])))


class CountingPipe:
    """Wraps a pipeline and records the batch size of each call."""

    def __init__(self, pipe) -> None:
        self.pipe, self.calls = pipe, []

    def __call__(self, **kw):
        self.calls.append(kw["prompt_embeds"].shape[0])
        return self.pipe(**kw)


def test_single_file_loads_the_same_weights_as_its_folder(tiny, painter: Painter) -> None:
    from diffusers import StableDiffusionPipeline

    folder = StableDiffusionPipeline.from_pretrained(config_folder(tiny["file"]))
    loaded = painter.models["file"].pipe
    for part in ("unet", "vae", "text_encoder"):
        ours, theirs = getattr(loaded, part).state_dict(), getattr(folder, part).state_dict()
        assert ours.keys() == theirs.keys()
        for key, value in theirs.items():
            assert torch.equal(ours[key].reshape(value.shape), value), (part, key)


def test_pipelines_run_dpm_solver_pp_with_sdpa(painter: Painter) -> None:
    from diffusers import DPMSolverMultistepScheduler
    from diffusers.models.attention_processor import AttnProcessor2_0

    for model in painter.models.values():
        assert isinstance(model.pipe.scheduler, DPMSolverMultistepScheduler)
        assert model.pipe.scheduler.config.algorithm_type == "dpmsolver++"
        # the model's own noise schedule is kept (SD 1.x: scaled linear)
        assert model.pipe.scheduler.config.beta_schedule == "scaled_linear"
        processors = model.pipe.unet.attn_processors.values()
        assert processors and all(isinstance(p, AttnProcessor2_0) for p in processors)
    assert painter.runtime.dtype == (torch.float16 if torch.cuda.is_available() else torch.float32)


def test_images_have_the_asked_size(painter: Painter) -> None:
    (painting,) = painter.paint([job(width=320, height=256)])
    image = Image.open(io.BytesIO(painting.png))
    assert image.format == "PNG" and image.size == (320, 256)
    assert not painting.nsfw  # the tiny models have no safety checker


def test_same_seed_same_bytes_other_seed_other_image(painter: Painter) -> None:
    (a,), (b,), (c,) = (painter.paint([job(seed=s)]) for s in (5, 5, 6))
    assert a.png == b.png
    assert np.abs(pixels(a.png) - pixels(c.png)).mean() > 5


def test_jobs_of_one_model_share_a_pipeline_call(painter: Painter, monkeypatch) -> None:
    counting = {name: CountingPipe(model.pipe) for name, model in painter.models.items()}
    for name, model in painter.models.items():
        monkeypatch.setattr(model, "pipe", counting[name])
    jobs = [job("folder", 1), job("folder", 2), job("file", 1), job("folder", 3, steps=3)]
    painter.paint(jobs)
    assert sorted(counting["folder"].calls) == [1, 2]  # two seeds together, other steps alone
    assert counting["file"].calls == [1]


def test_a_job_paints_the_same_in_a_batch_as_alone(painter: Painter) -> None:
    alone = [painter.paint([j])[0] for j in (job(seed=3), job(seed=4, cover=STORY))]
    batched = painter.paint([job(seed=3), job(seed=9), job(seed=4, cover=STORY)])
    for one, many in zip(alone, (batched[0], batched[2]), strict=True):
        # same noise, same conditioning; only floating-point sums in batched kernels differ
        assert np.abs(pixels(one.png) - pixels(many.png)).max() <= 2


def test_long_prompts_are_encoded_whole(painter: Painter) -> None:
    embeds, negative = painter._encode(job(cover=STORY))
    assert embeds.shape[1] > 77  # more than one 77-token chunk: the story is not cut off
    assert negative.shape == embeds.shape


def test_pipeline_calls_are_capped(painter: Painter, monkeypatch) -> None:
    counting = CountingPipe(painter.models["folder"].pipe)
    monkeypatch.setattr(painter.models["folder"], "pipe", counting)
    monkeypatch.setattr(painter, "max_images_per_call", 2)
    painter.paint([job(seed=s) for s in range(5)])
    assert counting.calls == [2, 2, 1]


def test_cached_encoding_matches_compel(painter: Painter) -> None:
    from compel import CompelForSD

    pipe = painter.models["folder"].pipe
    reference = CompelForSD(pipe)(STORY.prompt, STORY.negative_prompt)
    for _ in range(2):  # computed, then from the cache
        embeds, negative = painter.models["folder"].encode(STORY.prompt, STORY.negative_prompt)
        assert torch.allclose(embeds, reference.embeds)
        assert torch.allclose(negative, reference.negative_embeds)
