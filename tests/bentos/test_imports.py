"""Nothing heavy at import: every process of the whole stack imports the studio's module
(hence every service's), so a library loaded there is loaded by all of them. torch,
transformers, diffusers, Whisper, spaCy and scikit-learn load where a model does."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

HEAVY = ("torch", "transformers", "diffusers", "whisper", "spacy", "sklearn", "cv2", "av")


@pytest.mark.parametrize(
    "module", ["bentos.studio.service", "bentos.core_engine.service", "pipeline_client.cli"]
)
def test_importing_loads_no_model_library(module: str) -> None:
    code = f"import sys, json, {module}; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True)  # fmt: skip
    loaded = set(json.loads(done.stdout))
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
