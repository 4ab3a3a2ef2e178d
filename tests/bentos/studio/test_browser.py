"""The studio's web app in a real browser: headless Debian Chromium driven by Playwright.

The editor builds a pipeline by drag and drop, saves and runs it; an incompatible
connection is refused with its reason; the cover app runs end to end with its options; a
run page picks up where its run is after the studio is killed and started again.
"""

from __future__ import annotations

import re
import uuid
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from stack.local import free_port, serve
from tests.bentos.studio.test_resume import kill
from tests.conftest import DEMO_SONG, ROOT

pytestmark = pytest.mark.slow
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]  # fmt: skip
LOCAL = ("http://127.0.0.1:", "about:blank", "data:", "blob:")
RUN_S = 240_000  # ms: a smoke run, on a busy machine


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (make test installs it as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=FLAGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser context each test: its own owner cookie, as a new visitor."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1500, "height": 1000})
    errors: list[str] = []
    elsewhere: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda r: None if r.url.startswith(LOCAL) else elsewhere.append(r.url))
    yield page
    context.close()
    assert not errors, f"the page raised: {errors}"
    assert not elsewhere, f"the pages loaded from elsewhere (a CDN?): {elsewhere}"


def drop_service(page, call: str, x: int, y: int) -> None:
    page.drag_and_drop(
        f".palette-item[data-call='{call}']", "#canvas", target_position={"x": x, "y": y}
    )
    page.wait_for_selector(f".node.step header:has-text('{call}')")


def connect(page, ref: str, node: str, port: str = "") -> None:
    page.drag_and_drop(
        f".port.out[data-ref='{ref}']", f".port.in[data-node='{node}'][data-port='{port}']"
    )


def wait_valid(page) -> None:
    """The editor's live validation says valid; if not, what it says instead."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_selector("#validity:text('valid')", timeout=60_000)
    except PlaywrightTimeout:
        problems, yaml_text = page.inner_text("#problems"), page.input_value("#yaml")
        raise AssertionError(f"not valid: {problems}\n{yaml_text}") from None


def add_input(page, name: str, kind: str) -> None:
    page.fill("#input-name", name)
    page.select_option("#input-type", kind)
    page.click("#add-input")
    page.wait_for_selector(f".port.out[data-ref='$inputs.{name}']")


def test_build_save_and_run_lyrics_report_from_an_empty_canvas(page, studio: str) -> None:
    page.goto(f"{studio}/#/editor")
    page.wait_for_selector("#canvas .node")
    assert page.locator(".node.step").count() == 0  # an empty canvas
    page.fill("#pipeline-name", "my-lyrics-report")
    add_input(page, "audio", "file:audio/*")
    drop_service(page, "transcribe/transcribe", 300, 40)
    drop_service(page, "lyrics/analyze", 600, 260)
    drop_service(page, "summarize/summarize", 600, 20)
    connect(page, "$inputs.audio", "transcribe", "audio")
    connect(page, "$transcribe.text", "analyze", "text")
    connect(page, "$transcribe.text", "summarize", "text")
    page.wait_for_selector("[data-wire='$transcribe.text>summarize.text']", state="attached")
    for ref in ("$transcribe.text", "$analyze.emotions", "$analyze.keywords", "$summarize.summary"):
        connect(page, ref, "$outputs")
        page.wait_for_selector(f"[data-wire^='{ref}>$outputs.']", state="attached")
    # a literal and a condition, set in the step's inspector
    page.click(".node[data-node='summarize'] header")
    page.fill("#literal-max_words", "30")
    page.press("#literal-max_words", "Enter")
    page.fill("#step-when", "words($transcribe.text) > 0")
    page.press("#step-when", "Enter")

    wait_valid(page)
    yaml_text = page.input_value("#yaml")
    assert "call: lyrics/analyze" in yaml_text and "max_words: 30" in yaml_text
    assert "when: words($transcribe.text) > 0" in yaml_text
    page.click("#save")
    page.wait_for_selector("#save-result:has-text('Saved my-lyrics-report version')")

    page.click("#run-saved")
    page.set_input_files("#input-audio", str(DEMO_SONG))
    page.click("#start-run")
    page.wait_for_selector("#run-status:text('done')", timeout=RUN_S)
    for step in ("transcribe", "analyze", "summarize"):
        assert page.get_attribute(f".step[data-step={step}]", "data-status") == "finished"
    transcribe = page.locator(".step[data-step=transcribe] .result")
    assert transcribe.locator("[data-field=text] .text").inner_text().strip()
    analyze = page.locator(".step[data-step=analyze] .result")
    assert analyze.locator("[data-field=emotions] .bar").count() >= 2  # probabilities as bars
    assert analyze.locator("[data-field=keywords] .chips li").count() > 0  # keywords as chips
    assert page.locator("#outputs [data-field=emotions] .bar").count() >= 2
    # it shows among the pipelines, saved, with its graph
    page.goto(f"{studio}/#/pipelines")
    saved = page.locator(".pipeline[data-pipeline='my-lyrics-report']")
    assert "saved" in saved.inner_text()
    assert saved.locator("svg.graph .node").count() == 5  # inputs, three steps, outputs


def test_an_incompatible_connection_is_refused_with_its_reason(page, studio: str) -> None:
    page.goto(f"{studio}/#/editor")
    page.wait_for_selector("#canvas .node")
    add_input(page, "audio", "file:audio/*")
    drop_service(page, "lyrics/analyze", 400, 40)
    connect(page, "$inputs.audio", "analyze", "text")
    page.wait_for_selector("#connect-error:not([hidden])")
    reason = page.inner_text("#connect-error")
    assert "a file (audio/*), which cannot feed lyrics/analyze input 'text' (a string)" in reason
    assert page.locator("[data-wire]").count() == 0  # nothing was connected


def test_the_yaml_view_and_the_canvas_stay_in_sync(page, studio: str) -> None:
    page.goto(f"{studio}/#/editor/lyrics-report")
    page.wait_for_selector(".node[data-node='analyze']")
    assert page.input_value("#pipeline-name") == "my-lyrics-report"  # shipped: a copy
    page.wait_for_function("document.querySelector('#yaml').value.includes('summarize/summarize')")
    yaml_text = page.input_value("#yaml")
    renamed = yaml_text.replace("  summary:\n", "  story:\n").replace("$summary.", "$story.")
    page.fill("#yaml", renamed)
    page.wait_for_selector(".node[data-node='story']")
    assert page.locator(".node[data-node='summary']").count() == 0
    page.click(".node[data-node='analyze'] header")
    page.fill("#step-id", "feelings")
    page.press("#step-id", "Enter")
    page.wait_for_function("document.querySelector('#yaml').value.includes('$feelings.emotions')")
    page.fill("#yaml", "pipeline: half\nsteps:\n  foo:\n")  # half typed: drawn, no crash
    page.wait_for_selector(".node[data-node='foo'] .error:has-text('unknown call')")
    assert page.locator(".node.step").count() == 1


def test_the_catalogue_lists_every_service_with_its_ports(page, studio: str) -> None:
    page.goto(f"{studio}/#/catalogue")
    page.wait_for_selector(".service")
    # the smoke profile says its results are meaningless, on every page
    page.wait_for_selector("#profile-note:not([hidden])")
    assert "random weights" in page.inner_text("#profile-note")
    names = page.locator(".service").evaluate_all("els => els.map(e => e.dataset.service)")
    assert {"youtube", "transcribe", "genre", "lyrics", "summarize", "art"} <= set(names)
    transcribe = page.locator(".service[data-service=transcribe]")
    assert "file audio/*" in transcribe.inner_text()
    openapi = transcribe.locator("a.openapi").get_attribute("href")
    document = page.request.get(f"{studio}{openapi}").json()
    assert "/transcribe" in document["paths"]


def test_the_cover_app_with_its_options(page, studio: str) -> None:
    page.goto(studio)
    page.click("#go")
    assert "Choose an audio file" in page.inner_text("#form-error")
    page.set_input_files("#file", str(DEMO_SONG))
    assert "demo-song.mp3" in page.inner_text("#drop-text")
    page.click("#options summary")
    page.fill("#opt-seed", "7")
    page.fill("#opt-steps", "2")
    page.select_option("#opt-size", "256")
    page.fill("#opt-models", "sd2-base, openjourney")
    page.click("#go")
    page.wait_for_selector("#gallery figure", timeout=RUN_S)
    assert page.inner_text("#job-title") == "demo-song.mp3"
    models = page.locator("#gallery .model").all_inner_texts()
    assert models == ["sd2-base", "openjourney"]
    page.wait_for_selector("#job-status:text('done')", timeout=RUN_S)
    assert "seed 7 · 2 steps · 256×256" in page.inner_text("#prompt-meta")
    page.wait_for_function(
        "[...document.querySelectorAll('#gallery img')].every(i => i.naturalWidth === 256)"
    )
    stages = page.locator("#stages li").evaluate_all("els => els.map(e => e.dataset.stage)")
    assert stages == ["transcribe", "genre", "lyrics", "summary", "art"]  # no download
    assert page.is_visible("#genre .bar") and page.locator("#keywords li").count() > 0
    for card in ("#lyrics-box", "#summary-box", "#prompt-box"):  # long text stays inside
        assert page.locator(card).evaluate("e => e.scrollWidth <= e.clientWidth + 1"), card

    with page.expect_download() as one:
        page.locator("#gallery figcaption a").first.click()
    assert one.value.suggested_filename.endswith("sd2-base.png")
    assert Image.open(one.value.path()).size == (256, 256)
    with page.expect_download() as everything:
        page.click("#zip")
    names = zipfile.ZipFile(everything.value.path()).namelist()
    assert {n.rsplit("-", 1)[-1] for n in names if n.endswith(".png")} == {
        "base.png", "openjourney.png"}  # fmt: skip

    run_url = page.url
    page.goto("about:blank")
    page.goto(run_url)  # the run's address shows it again, once the page has fetched it
    page.wait_for_selector("#gallery figure", timeout=RUN_S)
    assert page.locator("#gallery .model").all_inner_texts() == models
    page.click("#again")
    page.wait_for_selector("#song-form")


def test_a_refused_address_is_explained(page, studio: str) -> None:
    page.goto(studio)
    page.fill("#url", "https://example.com/not-youtube")
    page.click("#go")
    page.wait_for_selector("#job-error:not([hidden])", timeout=RUN_S)
    assert "not a YouTube address" in page.inner_text("#job-error")


def test_a_run_page_picks_up_after_the_studio_restarts(page, studio_env, tmp_path) -> None:
    mark = uuid.uuid4().hex
    env = {**studio_env, "STUDIO_DATA_DIR": str(tmp_path), "STUDIO_TEST_MARK": mark}
    port = free_port()
    with serve("bentos.studio.service:Studio", env=env, cwd=ROOT, port=port) as url:
        page.goto(f"{url}/#/run/covers")
        page.set_input_files("#input-audio", str(DEMO_SONG))
        page.fill("#input-steps", "40")
        page.fill("#input-size", "256")
        page.fill("#input-models", '["sd2-base"]')
        page.click("#start-run")
        page.wait_for_selector(".step[data-step=art][data-status=started]", timeout=RUN_S)
        run_url = page.url
        kill(mark)
    assert re.search(r"#/runs/[0-9a-f]{32}$", run_url)
    with serve("bentos.studio.service:Studio", env=env, cwd=ROOT, port=port):
        page.reload()
        page.wait_for_selector("#run-status:text('done')", timeout=RUN_S)
        detail = page.inner_text(".step[data-step=transcribe] .detail")
        assert "answered from the step cache" in detail
        assert page.locator(".step[data-step=art] .gallery img").count() == 1


def test_the_segmentation_viewer_scores_samples_and_segments_an_upload(
    page, studio: str, tmp_path
) -> None:
    page.goto(f"{studio}/#/segment")
    page.wait_for_selector("#samples .sample")
    assert page.locator("#samples .sample").count() == 6  # the shipped synthetic scenes
    page.click(".sample[data-sample='street-02']")
    page.wait_for_selector("#iou", timeout=60_000)
    panels = "#sample-image img, #sample-truth img, #sample-predicted img"
    page.wait_for_function(  # the photo, its true mask and the prediction, at its size
        f"[...document.querySelectorAll('{panels}')].map(i => i.complete && i.naturalWidth)"
        ".join() === '512,512,512'"
    )
    assert page.locator("#iou tbody tr").count() == 8
    assert page.inner_text("#miou").endswith("%")  # random smoke weights: a number, no more
    # your own photo: segmented at its own size, with its overlay and the shares
    photo = tmp_path / "street.png"
    Image.new("RGB", (300, 200), (90, 120, 200)).save(photo)
    page.set_input_files("#segment-file", str(photo))
    page.wait_for_selector("#upload-overlay img", timeout=60_000)
    page.wait_for_function(
        "(i => i.complete && i.naturalWidth === 300 && i.naturalHeight === 200)"
        "(document.querySelector('#upload-predicted img'))"
    )
    assert page.locator("#upload-view .bar").count() == 8
    assert page.inner_text("#upload-description").startswith("A street scene")
    # not a photo: the service's own reason
    text = tmp_path / "notes.png"
    text.write_text("not an image at all")
    page.set_input_files("#segment-file", str(text))
    page.wait_for_selector("#upload-error")
    assert "not an image this service reads" in page.inner_text("#upload-error")


def test_a_shop_video_run_shows_its_actions_on_a_timeline(page, studio: str, tmp_path) -> None:
    from bentos.actions.video import write
    from training.actions.synthetic import render

    clip = render(11, seconds=4, fps=15, height=96, width=128)
    video = write(tmp_path / "shop.mp4", clip.frames, clip.fps)
    page.goto(f"{studio}/#/run/shop-actions")
    page.set_input_files("#input-video", str(video))
    page.click("#start-run")
    page.wait_for_selector("#run-status:text('done')", timeout=RUN_S)
    strip = page.locator("#outputs [data-field=segments] .timeline .segment")
    assert strip.count() >= 1
    widths = strip.evaluate_all("els => els.map(e => parseFloat(e.style.width))")
    assert sum(widths) == pytest.approx(100, abs=0.5)  # the segments cover the video
    assert page.locator("#outputs [data-field=segments] .legend li").count() >= 1
