"""The studio page in a real browser: headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import base64
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import DEMO_SONG

pytestmark = pytest.mark.slow
CHROMIUM = Path("/usr/bin/chromium")
MODELS = ["sd2-base", "openjourney", "album-cover"]
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.fixture(scope="module")
def page():
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (make test installs it as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=FLAGS
        )
        context = browser.new_context(accept_downloads=True)
        yield context.new_page()
        browser.close()


def covers_shown(page) -> list[str]:
    page.wait_for_selector("#gallery figure", timeout=240_000)
    return page.locator("#gallery figcaption .model").all_inner_texts()


def test_upload_watch_progress_and_download(page, studio: str, tmp_path: Path) -> None:
    page.goto(studio)
    page.set_input_files("#file", str(DEMO_SONG))
    assert "demo-song.mp3" in page.inner_text("#drop-text")
    page.click("#go")
    page.wait_for_selector("#job:not([hidden])")
    assert page.inner_text("#job-title") == "demo-song.mp3"
    page.wait_for_selector("#stages li[data-stage=transcribe]")
    stage_names = page.locator("#stages li").evaluate_all("els => els.map(e => e.dataset.stage)")
    assert stage_names == ["transcribe", "genre", "lyrics", "summarize", "art"]

    assert covers_shown(page) == MODELS
    assert page.inner_text("#job-status") == "done"
    # the intermediate results were shown on the way
    assert page.is_visible("#genre .bar") and page.is_visible("#emotions .bar")
    assert page.locator("#keywords li").count() > 0
    assert page.inner_text("#prompt").startswith("An album cover in style of")
    widths = page.locator("#gallery img").evaluate_all("imgs => imgs.map(i => i.naturalWidth)")
    assert widths == [512, 512, 512]

    with page.expect_download() as one:
        page.locator("#gallery figcaption a").first.click()
    path = one.value.path()
    assert one.value.suggested_filename == "sd2-base.png"
    assert Image.open(path).size == (512, 512)

    with page.expect_download() as everything:
        page.click("#zip")
    names = zipfile.ZipFile(everything.value.path()).namelist()
    assert sorted(names) == sorted([f"{m}.png" for m in MODELS] + ["report.json"])

    page.click("#again")
    assert page.is_visible("#song-form") and not page.is_visible("#job")


def test_drop_a_file_and_reload_the_job(page, studio: str) -> None:
    page.goto(studio)
    data = base64.b64encode(DEMO_SONG.read_bytes()).decode()
    transfer = page.evaluate_handle(
        """data => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], "dropped.mp3", {type: "audio/mpeg"}));
            return dt;
        }""",
        data,
    )
    page.dispatch_event("#drop", "drop", {"dataTransfer": transfer})
    assert "dropped.mp3" in page.inner_text("#drop-text")
    page.click("#go")
    assert covers_shown(page) == MODELS
    job_url = page.url
    page.goto("about:blank")
    page.goto(job_url)  # the job's address shows it again
    assert covers_shown(page) == MODELS and page.inner_text("#job-title") == "dropped.mp3"


def test_a_refused_address_is_explained(page, studio: str) -> None:
    page.goto(studio)
    page.fill("#url", "https://example.com/not-youtube")
    page.click("#go")
    page.wait_for_selector("#form-error:not([hidden])")
    assert "not a YouTube address" in page.inner_text("#form-error")
    assert page.is_visible("#song-form")


def test_nothing_chosen_is_explained(page, studio: str) -> None:
    page.goto(studio)
    page.click("#go")
    assert "Choose an audio file" in page.inner_text("#form-error")
