// The studio page: submit a song, follow the job, show each stage's results and the covers.
"use strict";

const $ = (id) => document.getElementById(id);
const STAGE_NAMES = {
  youtube: "Download", transcribe: "Lyrics (Whisper)", genre: "Genre",
  lyrics: "Emotions & keywords", summarize: "Story", art: "Covers",
};
const POLL_MS = 1000;
let current = null; // the job id being followed
let chosen = null; // the file picked or dropped

function show(el, visible = true) { el.hidden = !visible; }
function text(el, value) { el.textContent = value; }

function setFile(file) {
  chosen = file;
  text($("drop-text"), file ? `${file.name} (${(file.size / 2 ** 20).toFixed(1)} MiB)` :
    "Drop an audio file here, or click to choose one");
  if (file) $("url").value = "";
}

function bars(container, probabilities) {
  container.replaceChildren();
  const entries = Object.entries(probabilities).sort((a, b) => b[1] - a[1]);
  for (const [label, p] of entries.slice(0, 6)) {
    const row = document.createElement("div");
    row.className = "bar";
    const name = document.createElement("span");
    name.textContent = label;
    const track = document.createElement("div");
    const fill = document.createElement("div");
    fill.className = "fill";
    fill.style.width = `${Math.max(1, p * 100)}%`;
    track.append(fill);
    const value = document.createElement("span");
    value.textContent = `${(p * 100).toFixed(0)}%`;
    row.append(name, track, value);
    container.append(row);
  }
}

function renderStages(job) {
  const list = $("stages");
  list.replaceChildren();
  for (const [stage, progress] of Object.entries(job.stages)) {
    const item = document.createElement("li");
    item.dataset.stage = stage;
    item.dataset.state = progress.state;
    const seconds = progress.seconds != null ? ` · ${progress.seconds.toFixed(1)} s` : "";
    item.textContent = `${STAGE_NAMES[stage] || stage}: ${progress.state}${seconds}`;
    if (progress.detail) {
      const detail = document.createElement("span");
      detail.className = "detail";
      detail.textContent = progress.detail;
      item.append(detail);
    }
    list.append(item);
  }
}

function renderResults(job) {
  const report = job.report || {};
  if (report.genre) {
    show($("genre-box"));
    bars($("genre"), report.genre.probabilities);
  }
  if (report.lyrics) {
    show($("emotion-box"));
    bars($("emotions"), report.lyrics.emotions);
    show($("keywords-box"));
    const list = $("keywords");
    list.replaceChildren(...report.lyrics.keywords.map((k) => {
      const item = document.createElement("li");
      item.textContent = k.word;
      item.title = `score ${k.score.toFixed(2)}`;
      return item;
    }));
  }
  if (report.transcript) {
    show($("lyrics-box"));
    text($("lyrics"), report.transcript.text || "(no lyrics heard: instrumental?)");
    text($("lyrics-language"), report.transcript.language ? `(${report.transcript.language})` : "");
  }
  if (report.summary) {
    show($("summary-box"));
    text($("summary"), report.summary.summary);
  }
  if (report.covers) {
    show($("prompt-box"));
    text($("prompt"), report.covers.prompt);
    const c = report.covers;
    text($("prompt-meta"), `seed ${c.seed} · ${c.steps} steps · guidance ${c.guidance} · ${c.width}×${c.height}`);
  }
}

function renderGallery(job) {
  const covers = job.report && job.report.covers;
  const ready = covers && job.files.length > 0;
  show($("gallery-box"), Boolean(ready));
  if (!ready) return;
  const base = `/jobs/${job.id}`;
  $("zip").href = `${base}/covers.zip`;
  const gallery = $("gallery");
  gallery.replaceChildren(...covers.images.map((image) => {
    const url = `${base}/files/${encodeURIComponent(image.png)}`;
    const figure = document.createElement("figure");
    const img = document.createElement("img");
    img.src = url;
    img.alt = `cover painted by ${image.model}`;
    const caption = document.createElement("figcaption");
    const label = document.createElement("span");
    label.className = "model";
    label.textContent = image.model + (image.nsfw ? " (blacked out by its safety checker)" : "");
    const download = document.createElement("a");
    download.href = url;
    download.download = image.png;
    download.textContent = "Download";
    caption.append(label, download);
    figure.append(img, caption);
    return figure;
  }));
}

function render(job) {
  text($("job-title"), job.source);
  const status = $("job-status");
  text(status, job.status);
  status.className = `badge ${job.status}`;
  const error = job.failed_stage ? `Stage "${job.failed_stage}" failed: ${job.error}` : job.error;
  text($("job-error"), error || "");
  show($("job-error"), Boolean(error));
  renderStages(job);
  renderResults(job);
  renderGallery(job);
}

async function follow(id) {
  current = id;
  history.replaceState(null, "", `#${id}`);
  show($("start"), false);
  show($("job"));
  while (current === id) {
    const response = await fetch(`/jobs/${id}`);
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      text($("job-error"), body.detail || `the job cannot be read (${response.status})`);
      show($("job-error"));
      return;
    }
    const job = await response.json();
    if (current !== id) return;
    render(job);
    if (job.status !== "running") return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function submit(event) {
  event.preventDefault();
  const url = $("url").value.trim();
  const error = $("form-error");
  show(error, false);
  if (!chosen && !url) {
    text(error, "Choose an audio file or paste a YouTube address.");
    show(error);
    return;
  }
  const form = new FormData();
  if (chosen) form.append("audio", chosen, chosen.name);
  else form.append("url", url);
  $("go").disabled = true;
  try {
    const response = await fetch("/jobs", { method: "POST", body: form });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      text(error, body.detail || `The studio answered ${response.status}.`);
      show(error);
      return;
    }
    render(body);  // the job as accepted, while its progress is fetched
    follow(body.id);
  } catch (failure) {
    text(error, `The studio cannot be reached: ${failure}`);
    show(error);
  } finally {
    $("go").disabled = false;
  }
}

function startOver() {
  current = null;
  history.replaceState(null, "", location.pathname);
  setFile(null);
  $("file").value = "";
  $("url").value = "";
  for (const id of ["genre-box", "emotion-box", "keywords-box", "lyrics-box", "summary-box",
    "prompt-box", "gallery-box", "job-error", "job"]) show($(id), false);
  show($("start"));
}

function setup() {
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files.length) setFile(e.dataTransfer.files[0]);
  });
  drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") $("file").click(); });
  $("file").addEventListener("change", () => setFile($("file").files[0] || null));
  $("url").addEventListener("input", () => { if ($("url").value) setFile(null); });
  $("song-form").addEventListener("submit", submit);
  $("again").addEventListener("click", startOver);
  const id = location.hash.slice(1);
  if (/^[0-9a-f]{32}$/.test(id)) follow(id);
}

setup();
