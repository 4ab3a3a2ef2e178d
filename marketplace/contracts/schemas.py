"""Pydantic schemas of the services' inputs and outputs, shared by the services, the engine
and the clients (no torch, no BentoML here)."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, Field, field_validator

Genre = Literal[
    "Blues", "Classical", "Country", "Disco", "Electronic", "Hip-Hop",
    "Jazz", "Metal", "Pop", "Reggae", "Rock",
]  # fmt: skip
GENRES: tuple[str, ...] = get_args(Genre)


# A request's optional language, detected when absent: an ISO 639-1 code (Whisper also
# uses "haw" and "yue", hence up to three letters).
OptionalLanguage = Annotated[
    str | None,
    Field(None, pattern=r"^[a-z]{2,3}$", description="ISO 639-1 code; detected if absent"),
]


# An uploaded song: a multipart file field of any audio format ffmpeg reads.
AUDIO_UPLOAD = Field(
    description="the song, in any format ffmpeg reads",
    json_schema_extra={"contentMediaType": "audio/*"},
)


# An uploaded photo: a multipart file field, PNG, JPEG or WebP.
IMAGE_UPLOAD = Field(
    description="the photo: PNG, JPEG or WebP",
    json_schema_extra={"contentMediaType": "image/*"},
)


# An uploaded video: a multipart file field, mp4, webm, mkv or avi.
VIDEO_UPLOAD = Field(
    description="the video: mp4, webm, mkv or avi",
    json_schema_extra={"contentMediaType": "video/*"},
)


# An uploaded table of tag scores: the Mewo challenge's layout (a row id, a column per tag
# and per category).
TABLE_UPLOAD = Field(
    description="CSV: a header, then one row per track: its id, then its score of every "
    "tag and category the model reads (the Mewo challenge's layout)",
    json_schema_extra={"contentMediaType": "text/csv"},
)


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


Emotion = Literal["joy", "sadness", "anger", "surprise", "disgust", "fear", "others"]
EMOTIONS: tuple[str, ...] = get_args(Emotion)
Sentiment = Literal["POS", "NEU", "NEG"]


class Keyword(BaseModel):
    word: str = Field(description="a lemma of the lyrics")
    score: float = Field(ge=0, le=1, description="TF-IDF over the lines; the top keyword is 1")


class LyricsResult(BaseModel):
    """Answer of the lyrics service's ``POST /analyze``."""

    language: str = Field(description="language of the text, as given or detected")
    language_detected: bool = Field(description="true when the language was detected")
    model_language: str = Field(description="language of the emotion and sentiment models used")
    note: str | None = Field(None, description="e.g. that a fallback model was used")
    emotions: dict[Emotion, float] = Field(description="probability of each emotion; sum 1")
    emotion: Emotion = Field(description="the most probable emotion other than 'others'")
    sentiment: dict[Sentiment, float] = Field(description="POS / NEU / NEG probabilities")
    keywords: list[Keyword] = Field(max_length=50, description="at most 10 by default")
    chunks: int = Field(ge=1, description="pieces the text was split into for the models")


class SummaryResult(BaseModel):
    """Answer of the summarize service's ``POST /summarize``."""

    summary: str = Field(description="the summary, at most max_words words")
    chunks: int = Field(ge=1, description="pieces the text was cut into for the model")


class Segment(BaseModel):
    start: float = Field(ge=0, description="seconds from the start of the audio")
    end: float = Field(ge=0)
    text: str


class TranscriptResult(BaseModel):
    """Answer of the transcribe service's ``POST /transcribe``."""

    text: str = Field(description="the whole transcript; empty when no_speech")
    language: str = Field(description="ISO 639-1 code, as given or detected")
    language_probability: float = Field(ge=0, le=1, description="1.0 when given")
    duration: float = Field(ge=0, description="seconds of audio")
    segments: list[Segment]
    no_speech: bool = Field(description="true for instrumental or silent audio")
    windows: int = Field(ge=0, description="30 s windows decoded")
    model: str


# Cover art: bounds of a request (the seed's pipeline used 50 Euler steps at 512 x 512).
DEFAULT_STEPS, DEFAULT_GUIDANCE, DEFAULT_SIZE = 25, 5.0, 512
Steps = Annotated[int, Field(ge=1, le=100, description="denoising steps (DPM-Solver++)")]
Guidance = Annotated[float, Field(ge=0, le=20, description="classifier-free guidance scale")]
ImageSide = Annotated[
    int, Field(ge=256, le=1024, multiple_of=8, description="pixels, a multiple of 8")
]
Seed = Annotated[int, Field(ge=0, le=2**32 - 1, description="random seed; drawn if absent")]


class CoverSettings(BaseModel):
    """How to paint: models, seed, steps, guidance and size (defaults: the service's)."""

    models: list[str] | None = Field(
        None, min_length=1, max_length=16, description="models to paint with; default all"
    )
    seed: Seed | None = None
    steps: Steps = DEFAULT_STEPS
    guidance: Guidance = DEFAULT_GUIDANCE
    width: ImageSide = DEFAULT_SIZE
    height: ImageSide = DEFAULT_SIZE

    @field_validator("models")
    @classmethod
    def _no_repeats(cls, models: list[str] | None) -> list[str] | None:
        if models is not None and len(set(models)) < len(models):
            raise ValueError("a model is named more than once")
        return models


class CoverRequest(CoverSettings):
    """Body of the art service's ``POST /generate``: what to paint, and how."""

    genre: str = Field(min_length=1, max_length=60, description="e.g. the genre service's")
    emotion: str = Field(min_length=1, max_length=60, description="e.g. the lyrics' emotion")
    keywords: list[Keyword] = Field(
        default_factory=list, max_length=50, description="themes, weighted by score"
    )
    summary: str | None = Field(None, max_length=5000, description="the song's story")


class CoverImage(BaseModel):
    model: str = Field(description="name of the model that painted it")
    png: str = Field(
        description="the PNG file, base64-encoded",
        json_schema_extra={"contentEncoding": "base64", "contentMediaType": "image/png"},
    )
    nsfw: bool = Field(
        False, description="the model's safety checker blacked it out (false without one)"
    )


class CoverResult(BaseModel):
    """Answer of the art service's ``POST /generate``: one image per model, in order."""

    prompt: str = Field(description="the prompt used, in compel syntax")
    negative_prompt: str
    seed: int = Field(description="the seed used: send it again to get the same images")
    steps: int
    guidance: float
    width: int
    height: int
    images: list[CoverImage]


class FetchedAudio(BaseModel):
    """Answer of the youtube service's ``POST /fetch``: one video's audio and metadata."""

    video_id: str | None = Field(description="YouTube video id")
    url: str = Field(description="the address fetched (canonical watch page)")
    title: str
    uploader: str | None = None
    duration: float = Field(ge=0, description="seconds of audio")
    format: Literal["mp3", "ogg"] = Field(description="container of the audio")
    audio: str = Field(
        description="the audio file, base64-encoded",
        json_schema_extra={"contentEncoding": "base64", "contentMediaType": "audio/*"},
    )


Category = Literal[
    "void", "flat", "construction", "object", "nature", "sky", "human", "vehicle"
]  # Cityscapes' 8 categories, in the order of their ids (0 to 7)
CATEGORIES: tuple[str, ...] = get_args(Category)


class SegmentResult(BaseModel):
    """Answer of the segment service's ``POST /segment``."""

    mask: str = Field(
        description="the category mask at the image's size, a PNG with Cityscapes' category "
        "palette (pixel value = category id), base64-encoded",
        json_schema_extra={"contentEncoding": "base64", "contentMediaType": "image/png"},
    )
    overlay: str | None = Field(
        None,
        description="the photo with the mask blended over it, a PNG, base64-encoded "
        "(when asked for)",
        json_schema_extra={"contentEncoding": "base64", "contentMediaType": "image/png"},
    )
    shares: dict[Category, float] = Field(
        description="each category's share of the image's pixels; they sum to 1"
    )
    present: list[Category] = Field(
        description="the categories covering at least 1 % of the image, largest first"
    )
    description: str = Field(
        description="the scene in words, largest part first (e.g. for an art prompt)"
    )
    width: int = Field(ge=1, description="the image's width (the mask's too)")
    height: int = Field(ge=1)
    model: str = Field(description="tag of the model that answered, e.g. segment:abc123")


class TrackTags(BaseModel):
    """One track's decided tags."""

    id: str = Field(description="the track's row id (CSV) or its position (JSON), from 0")
    tags: list[str] = Field(description="the decided tags, by class, most likely first")
    by_class: dict[str, list[str]] = Field(
        description="the decided tags of each class (Genres, Instruments, Moods)"
    )
    scores: dict[str, float] = Field(
        description="each decided tag's decision score (the model's probability; the "
        "tagger's own score for the thresholds method)"
    )
    description: str = Field(description="the tags in words, class by class (e.g. for art)")


class TagsResult(BaseModel):
    """Answer of the tags service's ``POST /decide`` and ``POST /decide_table``."""

    tracks: list[TrackTags]
    method: str = Field(description="the decision model's method: thresholds, linear or mlp")
    model: str = Field(description="tag of the model that answered, e.g. tags:abc123")


Action = Literal[
    "background",
    "reach to shelf",
    "retract from shelf",
    "hand in shelf",
    "inspect product",
    "inspect shelf",
]  # MERL Shopping's five actions and the background, by class id
ACTIONS: tuple[str, ...] = get_args(Action)


class ActionSegment(BaseModel):
    label: Action
    start: float = Field(ge=0, description="seconds from the video's start")
    end: float = Field(ge=0, description="seconds; the next segment starts here")
    confidence: float = Field(ge=0, le=1, description="mean probability of its class over it")


class ActionTimeline(BaseModel):
    """Each second's mean class probabilities, for a timeline."""

    seconds: list[float] = Field(description="the start of each second")
    probabilities: list[dict[Action, float]]


class ActionsResult(BaseModel):
    """Answer of the actions service's ``POST /recognize`` (and ``/result`` of a task)."""

    segments: list[ActionSegment] = Field(
        description="the actions over the whole video, in order, without gap or overlap"
    )
    timeline: ActionTimeline
    duration: float = Field(ge=0, description="seconds of video analysed")
    fps: float = Field(gt=0, description="the frame rate the video was analysed at")
    preview: str | None = Field(
        None,
        description="the video with each moment's action written on it, an mp4, "
        "base64-encoded (when asked for)",
        json_schema_extra={"contentEncoding": "base64", "contentMediaType": "video/mp4"},
    )
    model: str = Field(description="tag of the model that answered, e.g. actions:abc123")


TaskState = Literal["queued", "running", "done", "failed", "cancelled"]


class TaskStatus(BaseModel):
    """Where a submitted video stands."""

    task_id: str
    status: TaskState
    stage: str = Field(description="what it is doing: waiting, decoding, flow, recognising")
    progress: float = Field(ge=0, le=1, description="share of the work done")
    error: ErrorBody | None = Field(None, description="why it failed (status failed)")
