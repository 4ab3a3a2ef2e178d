"""The GitHub workflows: valid against GitHub's schema, triggered as intended, and every
project script they call runs (what each script does is tested beside it)."""

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
    assert "dvc repro --pull" in steps and "dvc push" in steps
    assert "python -m training.report" in steps and "cml comment update" in steps
    uses = [s.get("uses", "") for s in train["jobs"]["train"]["steps"]]
    assert any(u.startswith("iterative/setup-cml") for u in uses)


def test_promotion_runs_the_gate_and_publishes_only_a_winner() -> None:
    promote = load("promote")
    assert promote["on"]["push"]["branches"] == ["main"]
    assert "training.promote" in runs(promote) and "GITHUB_STEP_SUMMARY" in runs(promote)
    assert promote["jobs"]["publish"]["if"] == "needs.gate.outputs.promote == 'true'"
    assert promote["jobs"]["publish"]["with"]["service"] == "genre"


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
