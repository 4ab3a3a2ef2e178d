// The run pages: a form generated from a pipeline's inputs, and a run followed live.
import { dropZone, fill, h, keyboardPicker, mib } from "./dom.js";
import { api, archiveUrl, explain, fileUrl } from "./api.js";
import { render } from "./render.js";
import { follow, queueText } from "./follow.js";

const portType = (input) => (input.media ? "file" : input.type || "any");

function control(name, input) {
  const kind = portType(input);
  const id = `input-${name}`;
  const hint = input.default != null ? `default: ${JSON.stringify(input.default)}` : "";
  if (kind === "file") {
    const label = h("span", { class: "drop-text" }, `Drop a file (${input.media}) here, or click to choose one`);
    const field = h("input", { id, name, type: "file", accept: input.media === "application/octet-stream" ? null : input.media });
    const zone = h("label", { class: "drop", for: id, tabindex: "0" }, field, label);
    keyboardPicker(zone, field);
    field.addEventListener("change", () => {
      const file = field.files[0];
      label.textContent = file ? `${file.name} (${mib(file.size)})` : label.textContent;
    });
    dropZone(zone, (files) => {
      field.files = files;
      field.dispatchEvent(new Event("change"));
    });
    return zone;
  }
  if (kind === "integer" || kind === "number") {
    return h("input", { id, name, type: "number", step: kind === "integer" ? "1" : "any", placeholder: hint });
  }
  if (kind === "boolean") {
    return h("select", { id, name }, h("option", { value: "" }, hint || "—"),
      h("option", { value: "true" }, "yes"), h("option", { value: "false" }, "no"));
  }
  if (kind === "array" || kind === "object" || kind === "any") {
    return h("textarea", { id, name, rows: 2, placeholder: hint || `JSON ${kind === "array" ? "list, e.g. [\"a\"]" : "value"}` });
  }
  return h("input", { id, name, type: "text", placeholder: hint, autocomplete: "off" });
}

/** Submit a run of pipeline ``name`` and open its page (``page``: "runs" or "covers");
 * a refusal is said in ``error``. */
export async function startRun(name, data, { button, error, version = null, page = "runs" }) {
  error.hidden = true;
  button.disabled = true;
  try {
    const query = version ? `?version=${version}` : "";
    const run = await api(`/pipelines/${encodeURIComponent(name)}/runs${query}`, { method: "POST", body: data });
    location.hash = `#/${page}/${run.id}`;
  } catch (err) {
    error.textContent = explain(err);
    error.hidden = false;
  } finally {
    button.disabled = false;
  }
}

/** The form of a pipeline's inputs; submitting starts a run and opens its page. */
export async function runForm(view, name) {
  const info = await api(`/pipelines/${encodeURIComponent(name)}`);
  const inputs = info.definition.inputs || {};
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const fields = Object.entries(inputs).map(([input, declared]) => {
    const required = declared.required !== false && declared.default == null;
    return h("div", { class: "form-row" },
      h("label", { for: `input-${input}` }, input, required ? h("span", { class: "required", title: "required" }, " *") : null,
        h("small", { class: "muted" }, ` ${portType(declared)}${declared.media ? ` (${declared.media})` : ""}`)),
      control(input, declared),
      declared.description ? h("small", { class: "muted" }, declared.description) : null);
  });
  const submit = h("button", { type: "submit", id: "start-run" }, "Run");
  const form = h("form", { id: "run-form", class: "card" }, fields, submit, error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData();
    for (const [input, declared] of Object.entries(inputs)) {
      const field = form.elements.namedItem(input);
      if (portType(declared) === "file") {
        if (field.files.length) data.append(input, field.files[0]);
      } else if (field.value !== "") {
        data.append(input, field.value);
      }
    }
    await startRun(name, data, { button: submit, error, version: info.version });
  });
  fill(view,
    h("h2", {}, `Run ${name} `, h("small", { class: "muted" }, `version ${info.version}`)),
    info.description ? h("p", {}, info.description) : null,
    form);
}

function seconds(step) {
  return step.seconds != null ? `${step.seconds.toFixed(1)} s` : "";
}

function stepCard(id, step, ctx) {
  return h("article", { class: "step card", dataset: { step: id, status: step.status } },
    h("header", {},
      h("h3", {}, id, " ", h("small", { class: "muted" }, step.call)),
      h("span", { class: `badge ${step.status}` }, step.status),
      h("span", { class: "muted" }, seconds(step), step.attempts > 1 ? ` · ${step.attempts} attempts` : "")),
    step.detail ? h("p", { class: step.status === "failed" ? "error" : "muted detail" }, step.detail) : null,
    step.result != null ? h("div", { class: "result" }, render(step.result, ctx)) : null);
}

/** One run, live: its queue position, each step's state and result, outputs, downloads. */
export function runPage(view, runId, share) {
  const ctx = { runId, share };
  const title = h("h2", { id: "run-title" }, "Run");
  const status = h("span", { id: "run-status", class: "badge", "aria-live": "polite" });
  const queue = h("p", { id: "queue-position", class: "muted", hidden: true });
  const error = h("p", { id: "run-error", class: "error", role: "alert", hidden: true });
  const steps = h("div", { id: "steps", class: "steps" });
  const outputs = h("section", { id: "outputs", class: "card", hidden: true });
  const downloads = h("section", { id: "downloads", class: "card", hidden: true });
  const actions = h("div", { class: "actions" });
  const shown = {};
  fill(view, h("div", { class: "run-head" }, title, status, actions), queue, error, steps, outputs, downloads);

  let made = false;
  const makeActions = (run) => {
    if (made || share) return;
    made = true;
    const shareButton = h("button", { type: "button", id: "share" }, "Share");
    const link = h("input", { id: "share-link", readonly: true, hidden: true });
    const attempt = (action) => async () => {
      try {
        await action();
      } catch (err) {
        error.textContent = explain(err);
        error.hidden = false;
      }
    };
    shareButton.addEventListener("click", attempt(async () => {
      const shared = await api(`/runs/${runId}/share`, { method: "POST" });
      link.value = `${location.origin}/#/runs/${runId}?share=${shared.share}`;
      link.hidden = false;
      link.select();
    }));
    const remove = h("button", { type: "button", id: "delete", class: "danger" }, "Delete");
    remove.addEventListener("click", attempt(async () => {
      if (!confirm(`Delete this run of ${run.pipeline} and its files?`)) return;
      await api(`/runs/${runId}`, { method: "DELETE" });
      location.hash = "#/runs";
    }));
    actions.append(shareButton, remove, link);
  };

  const update = (run) => {
    title.textContent = `${run.pipeline} `;
    title.append(h("small", { class: "muted" }, `version ${run.version} · ${new Date(run.created * 1000).toLocaleString()}`));
    status.textContent = run.status;
    status.className = `badge ${run.status}`;
    queue.textContent = queueText(run);
    queue.hidden = !queue.textContent;
    error.hidden = !run.error;
    error.textContent = run.error ? (run.failed_step ? `step '${run.failed_step}' failed: ${run.error}` : run.error) : "";
    for (const [id, step] of Object.entries(run.steps)) {
      const key = JSON.stringify(step);
      if (shown[id] === key) continue;
      shown[id] = key;
      const card = stepCard(id, step, ctx);
      const old = steps.querySelector(`[data-step="${id}"]`);
      old ? old.replaceWith(card) : steps.append(card);
    }
    if (run.outputs) {
      outputs.hidden = false;
      fill(outputs, h("h3", {}, "Outputs"), render(run.outputs, ctx));
    }
    if (run.files.length) {
      downloads.hidden = false;
      fill(downloads, h("h3", {}, "Downloads"),
        h("a", { class: "button", id: "archive", href: archiveUrl(runId, share), download: true }, "Everything (zip)"),
        h("ul", { class: "files" }, run.files.map((name) => h("li", {}, h("a", { href: fileUrl(runId, name, share), download: name }, name)))));
    }
    makeActions(run);
  };
  const failed = (err) => {
    error.textContent = explain(err);
    error.hidden = false;
  };
  return follow(runId, share, update, failed);
}

/** The caller's runs. */
export async function runList(view) {
  const runs = await api("/runs");
  fill(view, h("h2", {}, "Your runs"),
    runs.length ? h("table", { class: "runs" },
      h("thead", {}, h("tr", {}, ["Pipeline", "Status", "Started", ""].map((c) => h("th", {}, c)))),
      h("tbody", {}, runs.map((run) => h("tr", { dataset: { run: run.id } },
        h("td", {}, h("a", { href: `#/runs/${run.id}` }, `${run.pipeline} v${run.version}`)),
        h("td", {}, h("span", { class: `badge ${run.status}` }, run.status), " ", queueText(run)),
        h("td", {}, new Date(run.created * 1000).toLocaleString()),
        h("td", {}, run.error ? h("span", { class: "error" }, run.error.slice(0, 80)) : "")))))
      : h("p", { class: "muted" }, "No runs yet: open a pipeline and run it."));
}
