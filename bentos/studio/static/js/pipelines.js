// The shipped and saved pipelines, each with its graph; one pipeline with its YAML.
import { fill, h } from "./dom.js";
import { api } from "./api.js";
import { drawing } from "./graph.js";

export async function pipelinesPage(view) {
  const pipelines = await api("/pipelines");
  fill(view,
    h("div", { class: "run-head" }, h("h2", {}, "Pipelines"), h("a", { class: "button", href: "#/editor" }, "New pipeline")),
    h("div", { class: "pipelines" }, pipelines.map((p) =>
      h("article", { class: "card pipeline", dataset: { pipeline: p.name } },
        h("header", {},
          h("h3", {}, h("a", { href: `#/pipelines/${p.name}` }, p.name), " ", h("small", { class: "muted" }, `v${p.version} · ${p.source}`)),
          h("a", { class: "button", href: `#/run/${p.name}` }, "Run"),
          h("a", { href: `#/editor/${p.name}` }, p.source === "saved" ? "Edit" : "Copy to edit")),
        p.description ? h("p", {}, p.description) : null,
        drawing(p.definition)))));
}

export async function pipelinePage(view, name) {
  const p = await api(`/pipelines/${encodeURIComponent(name)}`);
  fill(view,
    h("div", { class: "run-head" },
      h("h2", {}, p.name, " ", h("small", { class: "muted" }, `v${p.version} · ${p.source}`)),
      h("a", { class: "button", href: `#/run/${p.name}` }, "Run"),
      h("a", { class: "button secondary", href: `#/editor/${p.name}` }, p.source === "saved" ? "Edit" : "Copy to edit")),
    p.description ? h("p", {}, p.description) : null,
    h("section", { class: "card" }, drawing(p.definition)),
    h("section", { class: "card" }, h("h3", {}, "Definition"), h("pre", { class: "yaml" }, p.yaml)));
}
