"""The GitHub workflows: valid against GitHub's schema, triggered as intended, every
project script they call runs (what each script does is tested beside it), and they are
safe to run: no expression spliced into a script, actions pinned by commit, pull
requests without write credentials."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
# where each script a workflow calls is tested
TESTED = {
    "bentos.build": "tests/bentos/test_build.py",
    "bentos.deploy": "tests/deploy/test_manifests.py",
    "training.promote": "tests/training/test_promote.py",
    "training.report": "tests/training/test_report.py",
    "training.drift": "tests/training/test_drift.py",
    "training.register": "tests/training/test_pipeline.py",
    "training.segment.register": "tests/training/segment/test_training.py",
    "training.tags.register": "tests/training/tags/test_training.py",
    "training.actions.register": "tests/training/actions/test_training.py",
}


def load(name: str) -> dict:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / f"{name}.yml").read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads `on` as True
    return workflow


def runs(workflow: dict) -> str:
    return "\n".join(
        step.get("run", "") for job in workflow["jobs"].values() for step in job.get("steps", [])
    )


def test_every_workflow_is_valid_for_github() -> None:
    checker = Path(sys.executable).with_name("check-jsonschema")
    done = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert {w.stem for w in WORKFLOWS} >= {"ci", "bentos", "train", "promote", "drift"}


def test_every_project_script_a_workflow_calls_runs() -> None:
    called = set()
    for path in WORKFLOWS:
        called |= set(re.findall(r"python -m ([\w.]+)", path.read_text()))
    assert called == set(TESTED), called ^ set(TESTED)
    for module, test in TESTED.items():
        assert (ROOT / test).exists()
        done = subprocess.run([sys.executable, "-m", module, "--help"], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0 and "usage" in done.stdout.lower(), (module, done.stderr)


def test_ci_runs_the_readme_command_on_pull_requests_and_main() -> None:
    ci = load("ci")
    assert "pull_request" in ci["on"] and ci["on"]["push"]["branches"] == ["main"]
    assert ".ci/run" in runs(ci)
    ci_script = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci_script and "make test" in (ROOT / "README.md").read_text()


def test_bentos_publish_what_changed_since_the_last_publication() -> None:
    bentos = load("bentos")
    assert bentos["on"]["push"]["branches"] == ["main"]
    assert "python -m bentos.build --changed" in runs(bentos)
    checkout = bentos["jobs"]["changed"]["steps"][0]
    assert checkout["with"]["fetch-depth"] == 0  # the whole range, tags included
    publish = load("publish-bento")
    steps = runs(publish)
    for needed in ("bentoml containerize", "docker push", "bentos.deploy set-image",
                   'git tag -f "published/$SERVICE"'):  # fmt: skip
        assert needed in steps
    uses = [s.get("uses", "") for s in publish["jobs"]["publish"]["steps"]]
    assert any(u.startswith("peter-evans/create-pull-request") for u in uses)


def test_training_pull_requests_get_the_cml_report() -> None:
    train = load("train")
    paths = train["on"]["pull_request"]["paths"]
    assert {"training/**", "params.yaml", "dvc.yaml", "**.dvc"} <= set(paths)
    steps = runs(train)
    assert "dvc repro --pull" in steps
    assert "python -m training.report" in steps and "cml comment update" in steps
    uses = [s.get("uses", "") for s in train["jobs"]["train"]["steps"]]
    assert any(u.startswith("iterative/setup-cml") for u in uses)


def test_promotion_runs_the_gate_and_publishes_only_a_winner() -> None:
    promote = load("promote")
    assert promote["on"]["push"]["branches"] == ["main"]
    assert "training.promote" in runs(promote) and "GITHUB_STEP_SUMMARY" in runs(promote)
    assert "--model" in runs(promote) and "promoted/$model" in runs(promote)
    for model in ("genre", "segment", "tags", "actions"):
        publish = promote["jobs"][f"publish-{model}"]
        assert publish["if"] == f"needs.gate.outputs.{model} == 'true'"
        assert publish["with"]["service"] == model
        ref = "model-ref" if model == "genre" else f"{model}-model-ref"
        assert publish["with"][ref] == "${{ github.sha }}"
        assert promote["jobs"][f"mark-{model}"]["needs"] == f"publish-{model}"


def test_drift_is_scheduled_and_opens_one_issue() -> None:
    drift = load("drift")
    assert drift["on"]["schedule"]
    steps = runs(drift)
    assert "python -m training.drift" in steps
    assert "gh issue list --label drift" in steps and "gh issue create" in steps
    assert "exit 1" in steps  # the run fails on drift


@pytest.mark.parametrize("workflow", [w.stem for w in WORKFLOWS])
def test_workflows_grant_only_the_permissions_they_use(workflow: str) -> None:
    permissions = load(workflow).get("permissions")
    assert isinstance(permissions, dict) and "write-all" not in str(permissions)


def steps_of(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


@pytest.mark.parametrize("workflow", [w.stem for w in WORKFLOWS])
def test_no_expression_is_spliced_into_a_script(workflow: str) -> None:
    """``${{ }}`` in ``run:`` is pasted into the shell script before it runs: a branch
    name or a title becomes code. Values go through ``env:`` and are read as "$VAR"."""
    for step in steps_of(load(workflow)):
        assert "${{" not in step.get("run", ""), (workflow, step.get("name"))


@pytest.mark.parametrize("workflow", [w.stem for w in WORKFLOWS])
def test_every_external_action_is_pinned_by_commit(workflow: str) -> None:
    text = (ROOT / ".github" / "workflows" / f"{workflow}.yml").read_text()
    uses = re.findall(r"^\s*(?:- )?uses:\s*(\S+)(.*)$", text, re.MULTILINE)
    assert uses
    for action, comment in uses:
        if action.startswith("./"):  # this repository's own reusable workflows
            continue
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", action), action
        assert re.fullmatch(r"\s+# v\d+(\.\d+)*", comment), (action, "# vX.Y.Z")


def test_pull_requests_get_no_write_credentials_and_push_nothing() -> None:
    train = load("train")
    assert set(train["on"]) == {"pull_request"}
    text = (ROOT / ".github" / "workflows" / "train.yml").read_text()
    secrets = set(re.findall(r"secrets\.(\w+)", text))
    assert secrets == {"DVC_READONLY_ACCESS_KEY_ID", "DVC_READONLY_SECRET_ACCESS_KEY",
                       "GITHUB_TOKEN"}  # fmt: skip
    assert "dvc push" not in runs(train)
    assert all(v in ("read", "none") for k, v in train["permissions"].items()
               if k != "pull-requests")  # fmt: skip  # the report's comment


def test_outputs_are_pushed_from_main_only_with_the_write_credentials() -> None:
    writers = {}
    for path in WORKFLOWS:
        text = path.read_text()
        if "secrets.DVC_ACCESS_KEY_ID" in text or "secrets.DVC_SECRET_ACCESS_KEY" in text:
            writers[path.stem] = load(path.stem)
    assert set(writers) == {"promote"}
    promote = writers["promote"]
    assert set(promote["on"]) <= {"push", "workflow_dispatch"}
    assert promote["on"]["push"]["branches"] == ["main"]
    assert "dvc push" in runs(promote)
    for path in WORKFLOWS:
        if path.stem != "promote":
            assert "dvc push" not in runs(load(path.stem)), path.stem
            assert "secrets: inherit" not in path.read_text(), path.stem


def test_the_genre_model_published_is_the_promoted_one() -> None:
    publish = load("publish-bento")
    assert publish["on"]["workflow_call"]["inputs"]["model-ref"]["default"] == "promoted/genre"
    (step,) = [s for s in steps_of(publish) if "dvc pull models/genre" in s.get("run", "")]
    assert step["env"]["MODEL_REF"] == "${{ inputs.model-ref }}"
    script = step["run"]
    assert script.index('git checkout "$MODEL_REF" -- dvc.lock') < script.index("dvc pull")
    assert "git checkout HEAD -- dvc.lock" in script  # the Bento's version stays clean
    assert load("bentos")["jobs"]["publish"]["with"]["model-ref"] == "promoted/genre"
