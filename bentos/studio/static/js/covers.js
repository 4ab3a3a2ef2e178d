// The cover app, the front page: a song in, album covers out. It starts a run of the
// `covers` pipeline with its options and follows it like any run.
import { dropZone, fill, h, keyboardPicker, mib } from "./dom.js";
import { archiveUrl, explain, fileUrl } from "./api.js";
import { bars, chips } from "./render.js";
import { follow, queueText } from "./follow.js";
import { startRun } from "./run.js";

const STAGES = {
  fetch: "Download", transcribe: "Lyrics (Whisper)", genre: "Genre",
  lyrics: "Emotions & keywords", summary: "Story", art: "Covers",
};

function box(id, title, ...content) {
  return h("article", { id: `${id}-box`, class: "card" }, h("h3", {}, title), ...content);
}

export function coverForm(view) {
  let chosen = null;
  const text = h("span", { id: "drop-text" }, "Drop an audio file here, or click to choose one");
  const file = h("input", { id: "file", name: "audio", type: "file", accept: "audio/*,video/webm,.mp3,.ogg,.opus,.wav,.flac,.m4a" });
  const drop = h("label", { id: "drop", class: "drop", for: "file", tabindex: "0" }, file, text);
  keyboardPicker(drop, file);
  const url = h("input", { id: "url", name: "url", type: "url", placeholder: "https://www.youtube.com/watch?v=…", autocomplete: "off" });
  const error = h("p", { id: "form-error", class: "error", role: "alert", hidden: true });
  const setFile = (f) => {
    chosen = f;
    text.textContent = f ? `${f.name} (${mib(f.size)})` : "Drop an audio file here, or click to choose one";
    if (f) url.value = "";
  };
  file.addEventListener("change", () => setFile(file.files[0] || null));
  dropZone(drop, (files) => setFile(files[0]));
  url.addEventListener("input", () => { if (url.value) { setFile(null); file.value = ""; } });

  const option = (id, label, field, hint) => h("div", { class: "form-row" }, h("label", { for: id }, label), field, hint ? h("small", { class: "muted" }, hint) : null);
  const seed = h("input", { id: "opt-seed", type: "number", min: "0", step: "1", placeholder: "random" });
  const steps = h("input", { id: "opt-steps", type: "number", min: "1", max: "100", step: "1", placeholder: "25" });
  const size = h("select", { id: "opt-size" }, h("option", { value: "" }, "512 × 512 (default)"),
    ["256", "384", "512", "640", "768", "1024"].map((s) => h("option", { value: s }, `${s} × ${s}`)));
  const models = h("input", { id: "opt-models", type: "text", placeholder: "all models", spellcheck: "false" });
  const summary = h("select", { id: "opt-summary" }, ["auto", "always", "never"].map((s) => h("option", { value: s }, s)));
  const options = h("details", { id: "options", class: "options" }, h("summary", {}, "Options"),
    h("div", { class: "option-grid" },
      option("opt-seed", "Seed", seed, "the same seed paints the same covers"),
      option("opt-steps", "Steps", steps, "denoising steps per cover"),
      option("opt-size", "Size", size),
      option("opt-models", "Models", models, "comma-separated art models, e.g. sd2-base, openjourney"),
      option("opt-summary", "Story", summary, "summarise long lyrics for the prompt")));
  const go = h("button", { id: "go", type: "submit" }, "Make covers");
  const form = h("form", { id: "song-form", class: "card" }, drop, h("div", { class: "or" }, "or"), url, options, go, error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const data = new FormData();
    if (chosen) data.append("audio", chosen);
    else if (url.value.trim()) data.append("url", url.value.trim());
    else {
      error.textContent = "Choose an audio file, drop one here, or paste a YouTube address.";
      error.hidden = false;
      return;
    }
    if (seed.value) data.append("seed", seed.value);
    if (steps.value) data.append("steps", steps.value);
    if (size.value) data.append("size", size.value);
    const names = models.value.split(",").map((m) => m.trim()).filter(Boolean);
    if (names.length) data.append("models", JSON.stringify(names));
    data.append("summary", summary.value);
    await startRun("covers", data, { button: go, error, page: "covers" });
  });
  fill(view,
    h("section", { class: "hero" }, h("h2", {}, "Cover studio"),
      h("p", {}, "A song in, album covers out: lyrics, emotions, genre, then one cover per model.")),
    form);
}

export function coverRun(view, runId) {
  const title = h("h2", { id: "job-title" });
  const status = h("span", { id: "job-status", class: "badge", "aria-live": "polite" });
  const again = h("a", { id: "again", class: "button secondary", href: "#/" }, "Start over");
  const details = h("a", { href: `#/runs/${runId}` }, "run details");
  const queue = h("p", { id: "queue-position", class: "muted", hidden: true });
  const error = h("p", { id: "job-error", class: "error", role: "alert", hidden: true });
  const stages = h("ol", { id: "stages", class: "stages", "aria-live": "polite" });
  const results = h("div", { class: "results" });
  const gallery = h("section", { id: "gallery-box", hidden: true });
  fill(view, h("section", { id: "job" },
    h("div", { class: "run-head" }, title, status, again, details), queue, error, stages, results, gallery));

  let lastResults = "";
  const update = (run) => {
    const song = run.inputs.audio?.name || run.inputs.url || "your song";
    title.textContent = song;
    status.textContent = run.status;
    status.className = `badge ${run.status}`;
    queue.textContent = queueText(run);
    queue.hidden = !queue.textContent;
    error.hidden = !run.error;
    error.textContent = run.error ? `${STAGES[run.failed_step] || run.failed_step || "the run"} failed: ${run.error}` : "";
    fill(stages, ...Object.entries(run.steps)
      .filter(([id, step]) => !(id === "fetch" && step.status === "skipped"))
      .map(([id, step]) => h("li", { dataset: { stage: id, state: step.status } },
        `${STAGES[id] || id}: ${step.status}${step.seconds != null ? ` · ${step.seconds.toFixed(1)} s` : ""}`,
        step.detail ? h("span", { class: "detail" }, step.detail) : null)));
    const results_ = Object.fromEntries(Object.entries(run.steps).map(([id, s]) => [id, s.result]));
    const key = JSON.stringify(results_);
    if (key === lastResults) return;
    lastResults = key;
    const { genre, lyrics, transcribe, summary, art } = results_;
    fill(results,
      genre ? box("genre", "Genre", h("div", { id: "genre" }, bars(genre.probabilities, 6))) : null,
      lyrics ? box("emotion", "Emotions", h("div", { id: "emotions" }, bars(lyrics.emotions, 6))) : null,
      lyrics ? box("keywords", "Keywords", h("div", { id: "keywords" }, chips(lyrics.keywords))) : null,
      transcribe ? box("lyrics", h("span", {}, "Lyrics ", h("small", { id: "lyrics-language" }, transcribe.language || "")),
        h("pre", { id: "lyrics", class: "text" }, transcribe.text || "(no words: an instrumental)")) : null,
      summary ? box("summary", "Story", h("p", { id: "summary", class: "text" }, summary.summary)) : null,
      art ? box("prompt", "Prompt", h("p", { id: "prompt", class: "text" }, art.prompt),
        h("p", { class: "muted", id: "prompt-meta" }, `seed ${art.seed} · ${art.steps} steps · ${art.width}×${art.height}`)) : null);
    if (art) {
      gallery.hidden = false;
      fill(gallery,
        h("div", { class: "gallery-head" }, h("h3", {}, "Covers"),
          h("a", { id: "zip", class: "button", href: archiveUrl(runId), download: true }, "Download all (zip)")),
        h("div", { id: "gallery", class: "gallery" }, art.images.map((image) => {
          const url = fileUrl(runId, image.png.file);
          return h("figure", {}, h("img", { src: url, alt: `cover by ${image.model}` }),
            h("figcaption", {}, h("span", { class: "model" }, image.model),
              image.nsfw ? h("span", { class: "muted" }, " (blacked out by the safety checker)") : null,
              h("a", { href: url, download: `${image.model}.png` }, "download")));
        })));
    }
  };
  return follow(runId, null, update, (err) => { error.textContent = explain(err); error.hidden = false; });
}
