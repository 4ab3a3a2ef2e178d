"""The catalogue: generated from the services' code, every service once, typed ports."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from marketplace.cli import main
from marketplace.contracts.catalogue import load_catalogue
from marketplace.contracts.services import SERVICE_NAMES
from tests.conftest import ROOT


def test_the_committed_catalogue_is_what_the_services_code_generates() -> None:
    env = os.environ | {"MARKETPLACE_PROFILE": "smoke"}
    done = subprocess.run(
        [sys.executable, "-m", "bentos.catalogue", "--check"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]


def test_every_service_once_with_typed_ports_and_media_types() -> None:
    catalogue = load_catalogue()
    assert tuple(s.name for s in catalogue.services) == SERVICE_NAMES
    assert "transcribe/transcribe" in catalogue.calls() and "genre/detect" in catalogue.calls()
    transcribe = catalogue.endpoint("transcribe/transcribe")
    audio = transcribe.input("audio")
    assert (audio.type, audio.media, audio.required) == ("file", "audio/*", True)
    assert transcribe.input("language").required is False
    assert transcribe.output("text").type == "string"
    fetched = catalogue.endpoint("youtube/fetch").output("audio")
    assert (fetched.type, fetched.media) == ("file", "audio/*")  # base64 in JSON
    images = catalogue.endpoint("art/generate").output("images")
    assert images.json_schema["items"]["properties"]["png"]["contentMediaType"] == "image/png"
    art = catalogue.service("art")
    assert art.gpu and set(art.tags) == {"text", "image"} and art.version == "1"
    assert art.summary.startswith("album covers")


def test_marketplace_services_prints_the_table_and_the_json(capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["services", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in data["services"]] == list(SERVICE_NAMES)
    assert main(["services"]) == 0
    table = capsys.readouterr().out
    for call in load_catalogue().calls():
        assert call in table


def test_the_contracts_engine_and_command_need_no_torch_nor_bentoml() -> None:
    code = (
        "import sys, marketplace, marketplace.cli, marketplace.engine, marketplace.runner, "
        "marketplace.validation, marketplace.contracts.catalogue; "
        "marketplace.contracts.catalogue.load_catalogue(); "
        "heavy = {'torch', 'diffusers', 'transformers', 'bentoml', 'numpy'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
