"""Settings of the art service (environment variables ``ART_*``)."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from bentos.common.settings import BatchingSettings

# The `full` profile's models: name -> hub id, local diffusers folder or single file.
DEFAULT_MODELS = {
    "sd2-base": "stabilityai/stable-diffusion-2-base",
    "openjourney": "prompthero/openjourney",
}
ALBUM_COVER = "album-cover"  # the name of the model ART_ALBUM_COVER_CHECKPOINT adds
SINGLE_FILE_SUFFIXES = (".ckpt", ".safetensors")
MODEL_NAME = r"^[a-z0-9][a-z0-9._-]{0,39}$"


def is_single_file(source: str) -> bool:
    """A single-file checkpoint (original layout) rather than a hub id or diffusers folder."""
    return source.lower().endswith(SINGLE_FILE_SUFFIXES)


class ArtSettings(BatchingSettings):
    model_config = SettingsConfigDict(env_prefix="ART_", extra="ignore")

    models: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_MODELS),
        description="name -> hub id, diffusers folder or .ckpt/.safetensors file (JSON)",
    )
    album_cover_checkpoint: str | None = Field(
        None, description=f"adds the model '{ALBUM_COVER}': a hub id, folder or single file"
    )
    single_file_config: str | None = Field(
        None,
        description="hub id or folder with the diffusers configs of single-file models; "
        "unset: diffusers infers them from the checkpoint (fetched from the hub)",
    )
    channels_last: bool = Field(False, description="UNet in channels-last memory format")
    compile: bool = Field(False, description="torch.compile the UNet (slow first request)")
    max_batch_size: int = Field(
        24, ge=1, description="most images, of all models, the batcher hands over at once"
    )
    max_images_per_call: int = Field(
        8, ge=1, description="most images in one pipeline call (bounds GPU memory)"
    )
    max_latency_ms: int = Field(
        600_000, ge=1, description="batching latency budget; beyond it requests get 503"
    )
    max_megapixel_steps: float = Field(
        40.0,
        gt=0,
        description="the most work one request may ask for: width x height x steps x images, "
        "in megapixel-steps (three 512 x 512 covers of 25 steps are 19.7)",
    )

    @field_validator("models")
    @classmethod
    def _names(cls, models: dict[str, str]) -> dict[str, str]:
        import re

        if not models:
            raise ValueError("ART_MODELS names no model")
        for name in models:
            if not re.match(MODEL_NAME, name):
                raise ValueError(f"model name '{name}' must match {MODEL_NAME}")
        return models

    def configured_models(self, smoke: bool = False) -> dict[str, str]:
        """The models to serve: ``ART_MODELS``, plus the album-cover checkpoint if set.

        The smoke profile stands in for all three of the default set, the album-cover
        single file included, unless ``ART_MODELS`` names the models itself.
        """
        models = dict(self.models)
        if self.album_cover_checkpoint:
            models[ALBUM_COVER] = self.album_cover_checkpoint
        elif smoke and "models" not in self.model_fields_set:
            models[ALBUM_COVER] = f"{ALBUM_COVER}.safetensors"
        return models
