// A result on the page by what it is: images as a gallery, audio as a player,
// probability maps as bars, segments in time as a timeline, keyword lists as chips, text as
// text, any other JSON as a tree.
import { h, mib } from "./dom.js";
import { fileUrl } from "./api.js";

const IMAGE = /\.(png|jpe?g|webp|gif)$/i;
const AUDIO = /\.(mp3|ogg|opus|wav|flac|m4a|weba)$/i;
const VIDEO = /\.(mp4|webm|mkv)$/i;

export const isFile = (v) => v && typeof v === "object" && typeof v.file === "string" && "bytes" in v;

/** An object with a file among its fields, e.g. a cover {model, png: {file, bytes}}. */
const fileField = (v) =>
  v && typeof v === "object" && !Array.isArray(v) ? Object.values(v).find(isFile) : undefined;

function isProbabilities(v) {
  if (!v || typeof v !== "object" || Array.isArray(v)) return false;
  const values = Object.values(v);
  return values.length >= 2 && values.every((x) => typeof x === "number" && x >= 0 && x <= 1);
}

const isChip = (v) =>
  typeof v === "string" ||
  (v && typeof v === "object" && typeof (v.word ?? v.label ?? v.tag) === "string" &&
    Object.keys(v).length <= 3);

export function bars(probabilities, limit = 8) {
  const rows = Object.entries(probabilities).sort((a, b) => b[1] - a[1]).slice(0, limit);
  return h("div", { class: "bars" }, rows.map(([label, p]) =>
    h("div", { class: "bar", title: p.toFixed(3) },
      h("span", { class: "label" }, label),
      h("div", { class: "track" }, h("div", { class: "fill", style: `width:${Math.max(1, p * 100)}%` })),
      h("span", { class: "value" }, `${(p * 100).toFixed(0)}%`))));
}

/** Segments in time, e.g. a video's actions: [{label, start, end, confidence}]. */
const isSegments = (v) =>
  Array.isArray(v) && v.length > 0 && v.every((x) => x && typeof x === "object" &&
    typeof x.label === "string" && typeof x.start === "number" && typeof x.end === "number");

const hue = (label) => [...label].reduce((a, c) => (a * 31 + c.charCodeAt(0)) % 360, 7);

export function timeline(segments) {
  const end = Math.max(...segments.map((s) => s.end)) || 1;
  const labels = [...new Set(segments.map((s) => s.label))];
  const colour = (label) => label === "background" ? "#d8d8d8" : `hsl(${hue(label)} 65% 55%)`;
  return h("div", { class: "timeline" },
    h("div", { class: "strip" }, segments.map((s) =>
      h("div", {
        class: "segment", dataset: { label: s.label },
        style: `left:${(100 * s.start) / end}%;width:${(100 * (s.end - s.start)) / end}%;background:${colour(s.label)}`,
        title: `${s.label}: ${s.start.toFixed(1)} to ${s.end.toFixed(1)} s` +
          (s.confidence != null ? ` (${(100 * s.confidence).toFixed(0)} %)` : ""),
      }))),
    h("div", { class: "axis" }, h("span", {}, "0 s"), h("span", {}, `${end.toFixed(1)} s`)),
    h("ul", { class: "legend" }, labels.map((label) =>
      h("li", {}, h("span", { class: "swatch", style: `background:${colour(label)}` }), label))));
}

export function chips(items) {
  return h("ul", { class: "chips" }, items.map((item) => {
    if (typeof item === "string") return h("li", {}, item);
    const score = item.score ?? item.probability;
    return h("li", { title: score != null ? `score ${Number(score).toFixed(2)}` : null },
      item.word ?? item.label ?? item.tag);
  }));
}

function fileView(file, ctx, caption) {
  const url = fileUrl(ctx.runId, file.file, ctx.share);
  const link = h("a", { href: url, download: file.file, class: "download" }, `${file.file} · ${mib(file.bytes)}`);
  if (IMAGE.test(file.file)) {
    return h("figure", { class: "image" }, h("a", { href: url, target: "_blank" },
      h("img", { src: url, alt: caption || file.file, loading: "lazy" })),
    h("figcaption", {}, caption ? h("span", { class: "caption" }, caption) : null, link));
  }
  if (AUDIO.test(file.file)) return h("div", { class: "media" }, h("audio", { controls: true, src: url, preload: "none" }), link);
  if (VIDEO.test(file.file)) return h("div", { class: "media" }, h("video", { controls: true, src: url, preload: "none" }), link);
  return h("div", { class: "media" }, link);
}

/** A caption for a gallery item: its short scalar fields (e.g. the model's name). */
function captionOf(item) {
  return Object.entries(item)
    .filter(([, v]) => typeof v === "string" && v.length < 60)
    .map(([, v]) => v).join(" · ");
}

export function tree(value, key = null, depth = 0) {
  const label = key != null ? h("span", { class: "key" }, `${key}: `) : null;
  if (value === null || typeof value !== "object") {
    return h("div", { class: "leaf" }, label, h("span", { class: `json ${value === null ? "null" : typeof value}` }, JSON.stringify(value)));
  }
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  const size = Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`;
  return h("details", { class: "tree", open: depth < 1 && entries.length <= 12 ? true : null },
    h("summary", {}, label, h("span", { class: "muted" }, size)),
    entries.map(([k, v]) => tree(v, k, depth + 1)));
}

/** A value rendered by what it is; ``ctx`` names the run whose files it may reference. */
export function render(value, ctx, depth = 0) {
  if (isFile(value)) return fileView(value, ctx);
  if (typeof value === "string") return h("div", { class: "text" }, value);
  if (value === null || typeof value !== "object") return h("span", { class: "scalar" }, String(value));
  if (Array.isArray(value)) {
    if (value.length && value.every((v) => isFile(v) || fileField(v))) {
      return h("div", { class: "gallery" }, value.map((v) =>
        isFile(v) ? fileView(v, ctx) : fileView(fileField(v), ctx, captionOf(v))));
    }
    if (isSegments(value)) return timeline(value);
    if (value.length && value.every(isChip)) return chips(value);
    return tree(value);
  }
  if (isProbabilities(value)) return bars(value);
  if (depth >= 1) return tree(value);
  return h("dl", { class: "fields" }, Object.entries(value).map(([k, v]) =>
    h("div", { class: "field", dataset: { field: k } }, h("dt", {}, k), h("dd", {}, render(v, ctx, depth + 1)))));
}
