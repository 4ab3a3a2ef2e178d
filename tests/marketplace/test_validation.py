"""Pipeline definitions are checked before they run: each error names where and what."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from marketplace.cli import PIPELINES_DIR, main
from marketplace.conditions import ConditionError, parse_condition
from marketplace.contracts.pipeline import json_schema
from marketplace.runner import load_pipeline
from marketplace.validation import input_problems, validate_definition, validate_text

LYRICS_REPORT = """
pipeline: lyrics-report
version: 1
inputs:
  audio: {media: "audio/*"}
  language: {type: string, required: false}
steps:
  transcribe:
    call: transcribe/transcribe
    with: {audio: $inputs.audio, language: $inputs.language}
  analyze:
    call: lyrics/analyze
    with: {text: $transcribe.text}
  summary:
    call: summarize/summarize
    when: words($transcribe.text) >= 120
    with: {text: $transcribe.text, max_words: 40}
outputs:
  transcript: $transcribe.text
  emotions: $analyze.emotions
  story: {from: $summary.summary, default: $transcribe.text}
"""


def edited(**changes: object) -> dict:
    """The lyrics report with some paths replaced ("steps.analyze.call": "x/y")."""
    data = yaml.safe_load(LYRICS_REPORT)
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = data
        for key in parents:
            node = node[key]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return data


def errors(data: dict) -> list[str]:
    return [str(p) for p in validate_definition(data).errors]


def test_the_example_of_the_issue_is_valid() -> None:
    result = validate_text(LYRICS_REPORT)
    assert result.valid and not result.problems
    assert result.definition.identity == "lyrics-report@1"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"steps__analyze__call": "lyric/analyze"},
         "error: steps.analyze.call: unknown service 'lyric' (services: youtube, transcribe"),
        ({"steps__analyze__call": "lyrics/analyse"},
         "error: steps.analyze.call: service 'lyrics' has no endpoint 'analyse' (endpoints: "
         "analyze)"),
        ({"steps__analyze__with": {"text": "$transcribe.text", "txt": "x"}},
         "error: steps.analyze.with.txt: lyrics/analyze has no input 'txt' (inputs: text, "
         "language)"),
        ({"steps__analyze__with": {}},
         "error: steps.analyze.with: lyrics/analyze needs its input 'text'"),
        ({"steps__analyze__with": {"text": "$transcribe.segments"}},
         "error: steps.analyze.with.text: $transcribe.segments is an array, which cannot feed "
         "lyrics/analyze input 'text' (a string)"),
        ({"steps__analyze__with": {"text": "$inputs.audio"}},
         "error: steps.analyze.with.text: $inputs.audio is a file (audio/*), which cannot feed "
         "lyrics/analyze input 'text' (a string)"),
        ({"steps__transcribe__with": {"audio": "$inputs.language"}},
         "error: steps.transcribe.with.audio: $inputs.language is a string, which cannot feed "
         "transcribe/transcribe input 'audio' (a file (audio/*))"),
        ({"steps__analyze__with": {"text": "$inputs.lyrics"}},
         "error: steps.analyze.with.text: $inputs.lyrics: no input 'lyrics' (inputs: audio, "
         "language)"),
        ({"steps__analyze__with": {"text": "$transcribe.txt"}},
         "error: steps.analyze.with.text: $transcribe.txt: 'transcribe' (transcribe/transcribe) "
         "has no field 'txt' (fields: text, language"),
        ({"steps__summary__with": {"text": "$transcribe.text", "max_words": "forty"}},
         "error: steps.summary.with.max_words: 'forty' does not fit summarize/summarize: "
         "'forty' is not of type 'integer'"),
        ({"steps__summary__with": {"text": "$transcribe.text", "max_words": 2}},
         "error: steps.summary.with.max_words: 2 does not fit summarize/summarize: 2 is less "
         "than the minimum of 5"),
        ({"steps__analyze__with": {"text": "$transcribe"}},
         "error: steps.analyze.with.text: '$transcribe' is not a reference"),
        ({"outputs__story": "$summari.summary"},
         "error: outputs.story: $summari.summary: no step 'summari' (steps: transcribe, "
         "analyze, summary)"),
        ({"outputs__emotions": "$analyze.emotion.joy"},
         "error: outputs.emotions: $analyze.emotion.joy: 'analyze.emotion' (lyrics/analyze) has "
         "no field 'joy' (fields: none)"),
        ({"steps__summary__when": "words($transcribe.text >= 120"},
         "error: steps.summary.when: 'words($transcribe.text >= 120' does not parse as CEL"),
        ({"steps__summary__when": "__import__('os').system('x') == 0"},
         "error: steps.summary.when: '__import__('os').system('x') == 0' calls __import__, "
         "system: only CEL's functions and words() are available"),
        ({"steps__summary__when": "words($transcript.text) > 1"},
         "error: steps.summary.when: $transcript.text: no step 'transcript'"),
        ({"steps__summary__when": "lyrics > 1"},
         "error: steps.summary.when: 'lyrics > 1' names 'lyrics' alone"),
        ({"steps__transcribe__needs": ["summary"]},
         "error: steps.transcribe: a cycle: transcribe -> summary -> transcribe"),
        ({"steps__analyze__needs": ["nothing"]}, "error: steps.analyze.needs: no step 'nothing'"),
        ({"steps__analyze__with": {"text": "$analyze.language"}},
         "error: steps.analyze.with.text: $analyze.language: a step cannot use its own result"),
        ({"version": 0}, "error: version: Input should be greater than or equal to 1"),
        ({"steps__analyze__retry": 3},
         "error: steps.analyze.retry: Extra inputs are not permitted"),
        ({"pipeline": "Lyrics Report"}, "error: pipeline: String should match pattern"),
    ],
)  # fmt: skip
def test_each_error_names_the_step_and_the_field(changes: dict, expected: str) -> None:
    found = errors(edited(**changes))
    assert any(e.startswith(expected) for e in found), found


def test_every_error_is_reported_at_once_and_unused_inputs_are_warnings() -> None:
    data = edited(steps__analyze__call="lyric/analyze", outputs__story="$nope.summary")
    data["inputs"]["mood"] = {"type": "string", "required": False}
    result = validate_definition(data)
    assert not result.valid and len(result.errors) == 2
    assert [str(w) for w in result.warnings] == [
        "warning: inputs.mood: declared but used by no step or output"
    ]


def test_a_fallback_default_must_fit_what_it_stands_for() -> None:
    data = edited(outputs__story={"from": "$summary.summary", "default": "$summary.chunks"})
    assert errors(data) == [
        "error: outputs.story.default: $summary.chunks is an integer, 'from' is a string"
    ]


def test_input_values_are_checked_against_the_ports_they_feed() -> None:
    covers = load_pipeline("covers")
    assert input_problems(covers, {"steps": 2, "size": 256, "summary_words": 30}) == []
    assert input_problems(covers, {"steps": 0, "size": 256}) == [
        "input 'steps' (0) does not fit art/generate 'steps' (step 'art'): "
        "0 is less than the minimum of 1"
    ]
    # one input feeding two ports is named once per port
    assert len(input_problems(covers, {"size": 300})) == 2


def test_conditions_are_cel_over_references_and_never_python() -> None:
    condition = parse_condition("words($transcribe.text) >= 3 && has($inputs.url)")
    assert [str(r) for r in condition.references] == ["$transcribe.text", "$inputs.url"]
    assert condition.evaluate({"transcribe": {"text": "a b c"}, "inputs": {"url": "u"}})
    assert not condition.evaluate({"transcribe": {"text": "a b c"}, "inputs": {}})
    assert parse_condition('$inputs.x == "$inputs.y"').evaluate({"inputs": {"x": "$inputs.y"}})
    with pytest.raises(ConditionError, match="not true/false"):
        parse_condition("size($transcribe.text)").evaluate({"transcribe": {"text": "ab"}})


def test_every_shipped_pipeline_is_valid_and_fits_the_published_schema() -> None:
    published = json.loads((PIPELINES_DIR / "pipeline.schema.json").read_text())
    assert published == json_schema(), "regenerate: marketplace schema > pipelines/..."
    shipped = sorted(PIPELINES_DIR.glob("*.yaml"))
    assert {p.stem for p in shipped} >= {"covers", "lyrics-report", "song-profile"}
    for path in shipped:
        jsonschema.validate(yaml.safe_load(path.read_text()), published)
        result = validate_text(path.read_text())
        assert result.valid, (path, [str(p) for p in result.problems])
        assert result.definition.pipeline == path.stem


def test_marketplace_validate_exits_1_naming_the_problem(tmp_path: Path, capsys) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(LYRICS_REPORT)
    bad = tmp_path / "bad.yaml"
    bad.write_text(LYRICS_REPORT.replace("lyrics/analyze", "lyrics/analyse"))
    assert main(["validate", str(good)]) == 0
    assert "good.yaml: valid (lyrics-report@1, 3 steps)" in capsys.readouterr().out
    assert main(["validate", str(good), str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bad.yaml: error: steps.analyze.call: service 'lyrics' has no endpoint" in err
    (tmp_path / "not.yaml").write_text("steps: [")
    assert main(["validate", str(tmp_path / "not.yaml")]) == 1
    assert "error: (file): not YAML" in capsys.readouterr().err
