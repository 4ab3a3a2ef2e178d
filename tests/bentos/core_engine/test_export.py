"""Catalogue endpoints as engine services, and pipelines in the engine's format: what
fits is exported exactly, what does not is refused with the reason."""

from __future__ import annotations

import pytest

from bentos.core_engine.contract import ComputeRequest
from bentos.core_engine.export import export, main
from bentos.core_engine.fields import ENGINE_LABELS, Unsupported, bindings
from bentos.core_engine.settings import CoreEngineSettings
from marketplace.conditions import parse_condition
from marketplace.contracts.catalogue import load_catalogue
from marketplace.contracts.pipeline import PipelineDefinition
from marketplace.contracts.services import SERVICE_NAMES
from marketplace.runner import load_pipeline
from tests.bentos.core_engine.standin import engine_condition


def definition(steps: dict, inputs: dict | None = None, outputs: dict | None = None):
    return PipelineDefinition.model_validate({
        "pipeline": "p", "version": 1,
        "inputs": inputs or {"audio": {"media": "audio/*"}, "text": {"type": "string"}},
        "steps": steps, "outputs": outputs or {},
    })  # fmt: skip


def test_every_endpoint_is_offered_or_left_out_with_a_reason() -> None:
    catalogue = load_catalogue()
    settings = CoreEngineSettings()
    offered, left_out = bindings(catalogue, settings.services, settings.exclude)
    calls = {b.call for b in offered.values()} | set(left_out)
    assert calls == set(catalogue.calls())
    assert all(left_out.values())
    assert set(ENGINE_LABELS) == set(SERVICE_NAMES)  # each service has its engine tags
    only, _ = bindings(catalogue, ["genre", "tags/decide"], [])
    assert sorted(only) == ["genre-detect", "tags-decide"]
    prefixed, _ = bindings(catalogue, ["genre"], [], prefix="market-")
    assert list(prefixed) == ["market-genre-detect"]


def test_a_chain_with_a_condition_becomes_positional_steps_and_python() -> None:
    exported = export(definition(
        {
            "fetch_song": {"call": "youtube/fetch", "with": {"url": "$inputs.text"}},
            "transcribe": {"call": "transcribe/transcribe",
                           "with": {"audio": "$fetch_song.audio"}},
            "lyrics": {"call": "lyrics/analyze",
                       "when": "words($transcribe.text) >= 3 && !($transcribe.text == 'la')",
                       "with": {"text": "$transcribe.text"}},
        },
        inputs={"text": {"type": "string"}},
        outputs={"emotions": "$lyrics.emotions", "words": "$transcribe.text"},
    ))  # fmt: skip
    steps = {s.identifier: s for s in exported.steps}
    assert steps["fetch-song"].inputs == ["pipeline.text"]
    assert steps["transcribe"].inputs == ["fetch-song.audio"]
    assert steps["transcribe"].needs == ["fetch-song"]
    assert steps["lyrics"].service_slug == "lyrics-analyze"
    assert steps["lyrics"].condition == (
        "len(str(transcribe.text).split()) >= 3 and (not (transcribe.text == 'la'))"
    )
    assert [(f.name, f.format_hint) for f in exported.data_out_fields] == [
        ("words", {"pipeline_source": "transcribe.text"}),
        ("lyrics_result", {"pipeline_source": "lyrics.result"}),  # may be skipped: last
    ]
    assert [(f.name, f.type) for f in exported.data_in_fields] == [("text", ["text/plain"])]


def test_not_equal_is_written_so_that_the_engine_rewrite_of_bang_leaves_it_intact() -> None:
    exported = export(definition({
        "genre": {"call": "genre/detect", "with": {"audio": "$inputs.audio"}},
        "cover": {"call": "art/generate", "when": "$genre.genre != 'rock'",
                  "with": {"genre": "$genre.genre", "emotion": "$inputs.text"}},
    }))  # fmt: skip
    condition = exported.steps[1].condition
    assert condition == "(not (genre.genre == 'rock'))" and "!" not in condition


@pytest.mark.parametrize(
    ("pipeline", "reason"),
    [
        ("covers", "reads $inputs.url, an optional input"),
        ("street-poster", "sets 'overlay', which the engine's segment leaves at the service's"),
        ("shop-actions", "video/*, a type the core engine does not have"),
        ("youtube-story", "sets 'max_words'"),
    ],
)
def test_shipped_pipelines_the_engine_cannot_express_are_refused_with_the_reason(
    pipeline: str, reason: str
) -> None:
    with pytest.raises(Unsupported, match=reason.replace("$", r"\$").replace("*", r"\*")):
        export(load_pipeline(pipeline))


@pytest.mark.parametrize(
    ("step", "reason"),
    [
        ({"when": "has($genre.genre)"}, r"calls has\(\)"),
        ({"when": "size($genre.genre) + 1 > 2"}, "arithmetic"),
        ({"when": "$genre.model == 'x'"}, "not one of the step's inputs"),
        ({"when": "$genre.genre == 'a!'"}, "which the engine would rewrite"),
        ({"with": {"genre": "rock", "emotion": "$inputs.text"}}, "'genre' is a literal"),
        (
            {"with": {"genre": "$genre.probabilities", "emotion": "$inputs.text"}},
            "not one of genre's output fields",
        ),
        ({"optional": True}, "is optional"),
        ({"timeout": 5}, "its own timeout or retries"),
    ],
)
def test_what_the_engine_cannot_express_is_refused(step: dict, reason: str) -> None:
    cover = {"call": "art/generate", "with": {"genre": "$genre.genre", "emotion": "$inputs.text"}}
    steps = {"genre": {"call": "genre/detect", "with": {"audio": "$inputs.audio"}},
             "cover": cover | step}  # fmt: skip
    with pytest.raises(Unsupported, match=reason):
        export(definition(steps))


def test_a_step_reading_a_conditional_steps_output_is_refused() -> None:
    steps = {
        "genre": {"call": "genre/detect", "when": "1 > 0", "with": {"audio": "$inputs.audio"}},
        "cover": {"call": "art/generate", "with": {"genre": "$genre.genre",
                                                   "emotion": "$inputs.text"}},
    }  # fmt: skip
    with pytest.raises(Unsupported, match="may be skipped"):
        export(definition(steps))


def test_the_command_prints_the_pipeline_or_the_reason(capsys) -> None:
    assert main(["song-profile"]) == 0
    assert '"service_slug": "genre-detect"' in capsys.readouterr().out
    assert main(["covers"]) == 1
    assert "cannot export covers: step 'fetch'" in capsys.readouterr().err


def test_the_storage_credentials_are_never_shown() -> None:
    request = ComputeRequest.model_validate({
        "s3_access_key_id": "AKIA-visible-nowhere", "s3_secret_access_key": "s3cr3t",
        "s3_region": "eu", "s3_host": "http://s3", "s3_bucket": "b",
        "task": {"id": "t", "data_in": []}, "callback_url": "http://engine/tasks/t",
    })  # fmt: skip
    shown = repr(request) + str(request) + request.model_dump_json()
    assert "s3cr3t" not in shown and "AKIA-visible-nowhere" not in shown


CONDITIONS = [
    "words($transcribe.text) >= 3 && !($transcribe.text == 'la')",
    "$transcribe.text != 'la' || size($transcribe.text) > 10",
    "words($transcribe.text) > 1 == true",
    "!(words($transcribe.text) < 2) && $inputs.text == 'go'",
]


@pytest.mark.parametrize("when", CONDITIONS)
@pytest.mark.parametrize("text", ["la", "", "one two three", "la la la la la la"])
@pytest.mark.parametrize("flag", ["go", "stop"])
def test_an_exported_condition_decides_as_ours_does_where_the_engine_evaluates_it(
    when: str, text: str, flag: str
) -> None:
    steps = {
        "transcribe": {"call": "transcribe/transcribe", "with": {"audio": "$inputs.audio"}},
        "art": {"call": "art/generate", "when": when,
                "with": {"genre": "$transcribe.text", "emotion": "$inputs.text"}},
    }  # fmt: skip
    exported = export(definition(steps))
    ours = parse_condition(when).evaluate({"inputs": {"text": flag}, "transcribe": {"text": text}})
    theirs = engine_condition(exported.steps[1].condition,
                              {"transcribe.text": text, "pipeline.text": flag})  # fmt: skip
    assert theirs == ours


@pytest.mark.parametrize(
    ("steps", "outputs", "reason"),
    [
        ({"pipeline": {"call": "genre/detect", "with": {"audio": "$inputs.audio"}}}, {},
         "include 'pipeline'"),
        ({"a_b": {"call": "genre/detect", "with": {"audio": "$inputs.audio"}},
          "a-b": {"call": "genre/detect", "with": {"audio": "$inputs.audio"}}}, {},
         "repeat"),
        ({"genre": {"call": "genre/detect", "when": "size($inputs.audio) > 0",
                    "with": {"audio": "$inputs.audio"}}}, {},
         "reads \\$inputs.audio, a file the engine does not load"),
        ({"genre": {"call": "genre/detect", "with": {"audio": "$inputs.audio"}},
          "art": {"call": "art/generate", "when": "$genre.genre",
                  "with": {"genre": "$genre.genre", "emotion": "$inputs.text"}}}, {},
         "not a comparison"),
        ({"one": {"call": "genre/detect", "when": "1 > 0", "with": {"audio": "$inputs.audio"}},
          "two": {"call": "genre/detect", "when": "1 > 0", "with": {"audio": "$inputs.audio"}}},
         {"a": "$one.genre", "b": "$two.genre"}, "several steps that may be skipped"),
        ({"genre": {"call": "genre/detect", "with": {"audio": "$inputs.audio"}}},
         {"x": "$nosuch.genre"}, "there is no step 'nosuch'"),
    ],
    ids=["pipeline", "same-id", "file-condition", "not-boolean", "shifted-outputs", "unknown"],
)  # fmt: skip
def test_what_the_engine_would_read_otherwise_is_refused(
    steps: dict, outputs: dict, reason: str
) -> None:
    with pytest.raises(Unsupported, match=reason):
        export(definition(steps, outputs=outputs))
