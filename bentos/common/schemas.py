"""Pydantic schemas shared by the services and the thin client (no torch here)."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, Field

Genre = Literal[
    "Blues", "Classical", "Country", "Disco", "Electronic", "Hip-Hop",
    "Jazz", "Metal", "Pop", "Reggae", "Rock",
]  # fmt: skip
GENRES: tuple[str, ...] = get_args(Genre)


class ErrorBody(BaseModel):
    """Body of every 4xx answer: a stable code and a human-readable message."""

    error: str = Field(description="machine-readable error code, e.g. not_audio")
    detail: str = Field(description="what was wrong with the request")


class GenreResult(BaseModel):
    """Answer of the genre service's ``POST /detect``."""

    genre: Genre = Field(description="the most probable genre")
    probabilities: dict[Genre, float] = Field(
        description="softmax probability of each of the 11 genres; they sum to 1"
    )
    windows: int = Field(ge=1, description="number of audio windows analysed and averaged")
    duration: float = Field(ge=0, description="duration of the decoded audio, in seconds")
    model: str = Field(description="tag of the model that answered, e.g. genre:abc123")
