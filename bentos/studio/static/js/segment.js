// The segmentation viewer: sample street scenes, each shown beside its true mask and the
// mask the segment service predicts, with the per-category IoU of that image; or a
// photo of your own, segmented, with its overlay and each category's share.
import { dropZone, fill, h, keyboardPicker, mib } from "./dom.js";
import { api, explain } from "./api.js";
import { bars } from "./render.js";

const CATEGORIES = ["void", "flat", "construction", "object", "nature", "sky", "human", "vehicle"];
const COLOURS = {
  void: "#000000", flat: "#804080", construction: "#464646", object: "#999999",
  nature: "#6b8e23", sky: "#4682b4", human: "#dc143c", vehicle: "#00008e",
};
const pct = (v) => (v == null ? "–" : `${(100 * v).toFixed(1)} %`);
const png = (b64) => `data:image/png;base64,${b64}`;

function legend() {
  return h("ul", { class: "legend" }, CATEGORIES.map((c) =>
    h("li", {}, h("span", { class: "swatch", style: `background:${COLOURS[c]}` }), c)));
}

function figure(id, title, src) {
  return h("figure", { id, class: "panel" }, h("img", { src, alt: title }), h("figcaption", {}, title));
}

function iouTable(scored) {
  return h("table", { id: "iou", class: "iou" },
    h("thead", {}, h("tr", {}, h("th", {}, "category"), h("th", {}, "IoU"), h("th", {}, "share (predicted)"))),
    h("tbody", {}, CATEGORIES.map((c) => h("tr", { dataset: { category: c } },
      h("td", {}, h("span", { class: "swatch", style: `background:${COLOURS[c]}` }), c),
      h("td", { class: "num" }, pct(scored.iou[c])),
      h("td", { class: "num" }, pct(scored.result.shares[c]))))),
    h("tfoot", {}, h("tr", {}, h("th", {}, "mean IoU"), h("th", { id: "miou", class: "num" }, pct(scored.miou)),
      h("th", { class: "num" }, `pixel accuracy ${pct(scored.pixel_accuracy)}`))));
}

async function showSample(out, sample) {
  fill(out, h("p", { class: "muted" }, `Segmenting ${sample.name}…`));
  try {
    const scored = await api(`/segment/samples/${encodeURIComponent(sample.name)}`, { method: "POST" });
    fill(out,
      h("div", { class: "panels" },
        figure("sample-image", "photo", sample.image),
        sample.truth ? figure("sample-truth", "true mask", sample.truth) : null,
        figure("sample-predicted", "predicted mask", png(scored.result.mask))),
      h("p", { class: "muted" }, scored.result.description, " · model ", h("code", {}, scored.result.model)),
      scored.miou == null ? h("p", { class: "muted" }, "No true mask: nothing to score against.") : iouTable(scored));
  } catch (err) {
    fill(out, h("p", { class: "error", role: "alert" }, explain(err)));
  }
}

function uploadForm(out) {
  const file = h("input", { id: "segment-file", type: "file", accept: "image/png,image/jpeg,image/webp" });
  const text = h("span", {}, "Drop a street photo here (PNG, JPEG or WebP), or click to choose one");
  const drop = h("label", { class: "drop", for: "segment-file", tabindex: "0" }, file, text);
  keyboardPicker(drop, file);
  const send = async (photo) => {
    text.textContent = `${photo.name} (${mib(photo.size)})`;
    fill(out, h("p", { class: "muted" }, "Segmenting your photo…"));
    const data = new FormData();
    data.append("image", photo);
    try {
      const result = await api("/segment", { method: "POST", body: data });
      fill(out,
        h("div", { class: "panels" },
          figure("upload-image", "your photo", URL.createObjectURL(photo)),
          figure("upload-predicted", "predicted mask", png(result.mask)),
          result.overlay ? figure("upload-overlay", "overlay", png(result.overlay)) : null),
        h("p", { id: "upload-description" }, result.description),
        bars(Object.fromEntries(CATEGORIES.map((c) => [c, result.shares[c]]))));
    } catch (err) {
      fill(out, h("p", { id: "upload-error", class: "error", role: "alert" }, explain(err)));
    }
  };
  file.addEventListener("change", () => { if (file.files[0]) send(file.files[0]); });
  dropZone(drop, (files) => send(files[0]));
  return drop;
}

export async function segmentPage(view) {
  const samples = await api("/segment/samples");
  const shown = h("section", { id: "sample-view", class: "card" }, h("p", { class: "muted" }, "Choose a sample."));
  const uploaded = h("section", { id: "upload-view" });
  const list = h("ul", { id: "samples", class: "samples" }, samples.map((sample) => {
    const button = h("button", { type: "button", class: "sample", dataset: { sample: sample.name }, title: sample.name },
      h("img", { src: sample.image, alt: sample.name, loading: "lazy" }), h("span", {}, sample.name));
    button.addEventListener("click", () => {
      for (const b of list.querySelectorAll(".sample")) b.classList.toggle("selected", b === button);
      showSample(shown, sample);
    });
    return h("li", {}, button);
  }));
  fill(view,
    h("h2", {}, "Street-scene segmentation"),
    h("p", { class: "muted" }, "Cityscapes' 8 categories. Each sample is shown beside its true mask and the mask the ",
      h("code", {}, "segment"), " service predicts, with the IoU of each category on that image."),
    legend(),
    samples.length ? list : h("p", { class: "muted" }, "No samples (STUDIO_SEGMENT_SAMPLES is empty)."),
    shown,
    h("h3", {}, "Your own photo"),
    uploadForm(uploaded), uploaded);
}
