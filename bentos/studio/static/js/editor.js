// The visual pipeline editor. The pipeline is one JSON document (what the YAML says);
// the canvas draws it, the API validates it (live, every problem named) and turns it into
// YAML and back, so the canvas and the YAML view stay in sync both ways.
import { fill, h, debounce } from "./dom.js";
import { api, postJson, services, endpointOf, explain } from "./api.js";
import { INPUTS, OUTPUTS, layout, parseRef, refsOf } from "./graph.js";
import { portLabel } from "./catalogue.js";

const TYPES = [
  ["file:audio/*", "file (audio/*)"], ["file:image/*", "file (image/*)"], ["file:video/*", "file (video/*)"],
  ["string", "string"], ["integer", "integer"], ["number", "number"], ["boolean", "boolean"],
  ["array", "array"], ["object", "object"],
];
const VALIDATE_MS = 250;
const YAML_MS = 400;

const clone = (value) => JSON.parse(JSON.stringify(value));

const isObject = (v) => v && typeof v === "object" && !Array.isArray(v);

/** A document the canvas can draw, whatever half-typed YAML gave. */
function normalise(data) {
  const doc = { pipeline: "my-pipeline", version: 1, description: "", inputs: {}, steps: {}, outputs: {}, ...data };
  for (const key of ["inputs", "steps", "outputs"]) if (!isObject(doc[key])) doc[key] = {};
  for (const [name, declared] of Object.entries(doc.inputs)) if (!isObject(declared)) doc.inputs[name] = {};
  for (const [id, step] of Object.entries(doc.steps)) {
    const fixed = isObject(step) ? step : {};
    if (typeof fixed.call !== "string") fixed.call = "";
    if (!isObject(fixed.with)) fixed.with = {};
    doc.steps[id] = fixed;
  }
  return doc;
}

const STEP_ID = /^[a-z][a-z0-9_]{0,39}$/;

function stepIdFor(call, taken) {
  let base = call.split("/")[1].toLowerCase().replace(/[^a-z0-9_]/g, "_");
  if (!/^[a-z]/.test(base)) base = `step_${base}`;
  let id = base;
  for (let n = 2; id in taken; n += 1) id = `${base}_${n}`;
  return id;
}

const describe = (value) => {
  if (typeof value === "string") return value;
  if (value && typeof value === "object" && "from" in value) return `${value.from} (default ${JSON.stringify(value.default)})`;
  return JSON.stringify(value);
};

/** Every string reference to step ``from`` rewritten to ``to`` (null: dropped). */
function rewrite(value, from, to) {
  if (typeof value === "string") {
    const ref = parseRef(value);
    if (!ref || ref.root !== from) return value;
    return to == null ? undefined : `$${to}.${ref.path.join(".")}`;
  }
  if (value && typeof value === "object" && "from" in value) {
    const first = rewrite(value.from, from, to);
    const fallback = rewrite(value.default, from, to);
    if (first === undefined) return fallback;
    return { from: first, default: fallback === undefined ? null : fallback };
  }
  return value;
}

export async function editorPage(view, name) {
  const cat = await services();
  let doc = normalise({});
  if (name) {
    const info = await api(`/pipelines/${encodeURIComponent(name)}`);
    doc = normalise(clone(info.definition));
    if (info.source === "shipped") doc.pipeline = `my-${name}`; // shipped ones are read only
  }
  const heightOf = (id) => {
    const rows = id === INPUTS ? Object.keys(doc.inputs).length + 2.5
      : id === OUTPUTS ? Object.keys(doc.outputs).length + 1
        : (() => { const e = endpointOf(cat, doc.steps[id]?.call || ""); return e ? e.inputs.length + e.outputs.length : 1; })();
    return 52 + 25 * rows;
  };
  const place = () => { pos = layout(doc, pos, { heightOf }); };
  let pos = {};
  place();
  let selected = null;

  // -- the page --------------------------------------------------------------------------
  const nameField = h("input", { id: "pipeline-name", value: doc.pipeline, spellcheck: "false", "aria-label": "pipeline name" });
  const description = h("input", { id: "pipeline-description", value: doc.description || "", placeholder: "what it does", "aria-label": "description" });
  const save = h("button", { type: "button", id: "save" }, "Save");
  const saved = h("span", { id: "save-result", role: "status" });
  const connectError = h("p", { id: "connect-error", class: "error", role: "alert", hidden: true });
  const wires = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  wires.setAttribute("class", "wires");
  const canvas = h("div", { id: "canvas", class: "canvas" }, wires);
  const problems = h("section", { id: "problems", class: "problems", "aria-live": "polite" });
  const yamlView = h("textarea", { id: "yaml", spellcheck: "false", rows: 18, "aria-label": "YAML" });
  const inspector = h("aside", { id: "inspector", class: "inspector" });
  const palette = h("aside", { class: "palette" }, h("h3", {}, "Services"),
    h("p", { class: "muted" }, "Drag one onto the canvas."),
    cat.services.map((service) => service.endpoints.map((endpoint) => {
      const call = `${service.name}/${endpoint.name}`;
      const item = h("div", { class: "palette-item", draggable: "true", tabindex: "0", dataset: { call }, title: endpoint.summary },
        h("strong", {}, call), h("small", { class: "muted" }, service.tags.join(", ")));
      item.addEventListener("dragstart", (e) => { e.dataTransfer.setData("text/plain", call); e.dataTransfer.effectAllowed = "copy"; });
      item.addEventListener("keydown", (e) => { if (e.key === "Enter") addStep(call, null); });
      return item;
    })));
  fill(view, h("div", { class: "editor" }, palette,
    h("div", { class: "workspace" },
      h("div", { class: "toolbar" }, h("label", {}, "Name ", nameField), h("label", { class: "grow" }, "Description ", description), save, saved),
      connectError, canvas,
      h("div", { class: "below" }, problems, h("section", { class: "yaml-view" }, h("h3", {}, "YAML"), yamlView))),
    inspector));

  // -- changes ---------------------------------------------------------------------------
  const showProblems = (result) => {
    const items = [...result.errors, ...result.warnings];
    fill(problems,
      h("h3", {}, result.valid ? "Valid" : "Problems", " ", h("span", { id: "validity", class: `badge ${result.valid ? "done" : "failed"}` }, result.valid ? "valid" : `${result.errors.length} error(s)`)),
      items.length ? h("ul", {}, items.map((p) => h("li", { class: p.level, dataset: { where: p.where } }, h("code", {}, p.where), ` ${p.message}`))) : null);
  };
  // Canvas edits validate the document and refresh the YAML view; YAML typed in the view
  // is parsed into the document. Only the latest answer counts, and the YAML view is never
  // overwritten while it holds text not parsed yet.
  let latest = 0;
  let yamlPending = false;
  let edits = 0; // canvas edits so far
  const validate = debounce(async () => {
    const mine = ++latest;
    try {
      const result = await postJson("/pipelines/validate", doc);
      if (mine !== latest) return;
      showProblems(result);
      if (!yamlPending && document.activeElement !== yamlView && result.yaml) yamlView.value = result.yaml;
    } catch (err) {
      if (mine === latest) fill(problems, h("p", { class: "error" }, explain(err)));
    }
  }, VALIDATE_MS);
  const changed = () => {
    edits += 1;
    draw();
    validate();
  };
  async function parseYaml() {
    const mine = ++latest;
    const text = yamlView.value;
    const before = edits;
    try {
      const result = await api("/pipelines/validate", { method: "POST", body: text, type: "application/yaml" });
      if (yamlView.value !== text) return; // newer typing: its own parse is on the way
      if (mine !== latest || edits !== before) { parseLater(); return; } // overtaken: again
      yamlPending = false;
      showProblems(result);
      if (result.document) {
        doc = normalise(result.document);
        nameField.value = doc.pipeline;
        description.value = doc.description || "";
        draw();
      }
    } catch (err) {
      if (mine === latest) fill(problems, h("p", { class: "error" }, explain(err)));
    }
  }
  const parseLater = debounce(parseYaml, YAML_MS);
  yamlView.addEventListener("input", () => { yamlPending = true; parseLater(); });
  nameField.addEventListener("input", () => { doc.pipeline = nameField.value.trim(); edits += 1; validate(); });
  description.addEventListener("input", () => { doc.description = description.value; edits += 1; validate(); });
  save.addEventListener("click", async () => {
    saved.className = "";
    saved.textContent = "saving…";
    if (yamlPending) await parseYaml(); // what the YAML view says is what is saved
    try {
      const result = await api(`/pipelines/${encodeURIComponent(doc.pipeline)}`, { method: "PUT", body: JSON.stringify(doc), type: "application/json" });
      fill(saved, `Saved ${result.name} version ${result.version} · `, h("a", { href: `#/run/${result.name}`, id: "run-saved" }, "run it"));
    } catch (err) {
      saved.className = "error";
      saved.textContent = explain(err);
    }
  });

  // -- editing ---------------------------------------------------------------------------
  function addStep(call, at) {
    const id = stepIdFor(call, doc.steps);
    doc.steps[id] = { call, with: {} };
    pos[id] = at || { x: 280 + 30 * (Object.keys(doc.steps).length % 5), y: 30 + 40 * (Object.keys(doc.steps).length % 8) };
    selected = id;
    changed();
  }
  canvas.addEventListener("dragover", (e) => { e.preventDefault(); e.dataTransfer.dropEffect = "copy"; });
  canvas.addEventListener("drop", (e) => {
    e.preventDefault();
    const call = e.dataTransfer.getData("text/plain");
    if (!endpointOf(cat, call)) return;
    const box = canvas.getBoundingClientRect();
    addStep(call, { x: Math.max(0, e.clientX - box.left + canvas.scrollLeft - 20), y: Math.max(0, e.clientY - box.top + canvas.scrollTop - 15) });
  });

  async function connect(ref, node, port) {
    connectError.hidden = true;
    if (node === OUTPUTS) {
      let out = port;
      if (!out) {
        const field = parseRef(ref).path.at(-1);
        out = field;
        for (let n = 2; out in doc.outputs; n += 1) out = `${field}_${n}`;
      }
      doc.outputs[out] = ref;
      changed();
      return;
    }
    const candidate = clone(doc);
    candidate.pipeline = "connection-check"; // a name being typed must not stop the check
    candidate.steps[node].with[port] = ref;
    let result;
    try {
      result = await postJson("/pipelines/validate", candidate);
    } catch (err) {
      connectError.textContent = explain(err);
      connectError.hidden = false;
      return;
    }
    const refused = result.errors.find((p) => p.where === `steps.${node}.with.${port}`);
    if (refused || !result.typed) {
      const why = refused ? refused.message
        : `the types cannot be checked until this is fixed: ${result.errors[0]?.where}: ${result.errors[0]?.message}`;
      connectError.textContent = `Cannot connect ${ref} to ${node}.${port}: ${why}`;
      connectError.hidden = false;
      return;
    }
    if (!(node in doc.steps)) return; // removed meanwhile
    doc.steps[node].with[port] = ref; // on the document as it is now: edits meanwhile kept
    changed();
  }

  function renameStep(from, to) {
    if (!STEP_ID.test(to) || to === from || to in doc.steps || to === "inputs") {
      connectError.textContent = `'${to}' cannot be a step id: lower case letters, digits and _, starting with a letter, not 'inputs' nor another step's`;
      connectError.hidden = false;
      return false;
    }
    const steps = {};
    for (const [id, step] of Object.entries(doc.steps)) steps[id === from ? to : id] = step;
    doc.steps = steps;
    for (const step of Object.values(doc.steps)) {
      for (const [port, value] of Object.entries(step.with)) step.with[port] = rewrite(value, from, to);
      if (step.needs) step.needs = step.needs.map((n) => (n === from ? to : n));
      if (step.when) step.when = step.when.replace(new RegExp(`\\$${from}(?=\\.)`, "g"), `$${to}`);
    }
    for (const [out, value] of Object.entries(doc.outputs)) doc.outputs[out] = rewrite(value, from, to);
    pos[to] = pos[from];
    delete pos[from];
    selected = to;
    return true;
  }

  /** Bindings and outputs that read ``root`` (a step, or "inputs") are dropped. */
  function unbind(root) {
    for (const step of Object.values(doc.steps)) {
      for (const [port, value] of Object.entries(step.with)) {
        const kept = rewrite(value, root, null);
        if (kept === undefined) delete step.with[port];
        else step.with[port] = kept;
      }
      if (step.needs) step.needs = step.needs.filter((n) => n !== root);
    }
    for (const [out, value] of Object.entries(doc.outputs)) {
      const kept = rewrite(value, root, null);
      if (kept === undefined) delete doc.outputs[out];
      else doc.outputs[out] = kept;
    }
  }

  function removeStep(id) {
    delete doc.steps[id];
    unbind(id);
    selected = null;
  }

  // -- drawing ---------------------------------------------------------------------------
  const portIn = (node, port, bound) => h("span", { class: `port in${bound ? " bound" : ""}`, dataset: { node, port }, title: `${node === OUTPUTS ? "output" : "input"} ${port || "(new)"}` });
  const portOut = (ref) => h("span", { class: "port out", dataset: { ref }, title: ref });

  function inputsNode() {
    const nameInput = h("input", { id: "input-name", placeholder: "name", size: 8, spellcheck: "false" });
    const typeInput = h("select", { id: "input-type" }, TYPES.map(([value, label]) => h("option", { value }, label)));
    const required = h("input", { type: "checkbox", id: "input-required", checked: true });
    const add = h("button", { type: "button", id: "add-input", class: "small" }, "+ input");
    add.addEventListener("click", () => {
      const input = nameInput.value.trim();
      if (!/^[a-z][a-z0-9_]*$/.test(input)) {
        connectError.textContent = `'${input}' is not an input name (lower case letters, digits, _)`;
        connectError.hidden = false;
        return;
      }
      const [type, media] = typeInput.value.split(":");
      doc.inputs[input] = media ? { media } : { type };
      if (!required.checked) doc.inputs[input].required = false;
      changed();
    });
    return [
      Object.entries(doc.inputs).map(([input, declared]) => {
        const remove = h("button", { type: "button", class: "x", title: `remove input ${input}` }, "×");
        remove.addEventListener("click", () => { delete doc.inputs[input]; unbind("inputs"); changed(); });
        return h("div", { class: "row out-row", dataset: { input } }, remove,
          h("span", { class: "pname" }, input), h("small", { class: "ptype" }, declared.media ? `file ${declared.media}` : declared.type || "any",
            declared.required === false ? "?" : ""), portOut(`$inputs.${input}`));
      }),
      h("div", { class: "row add" }, nameInput, typeInput, h("label", { title: "required" }, required, "req."), add),
    ];
  }

  function outputsNode() {
    return [
      Object.entries(doc.outputs).map(([out, value]) => {
        const remove = h("button", { type: "button", class: "x", title: `remove output ${out}` }, "×");
        remove.addEventListener("click", () => { delete doc.outputs[out]; changed(); });
        return h("div", { class: "row in-row", dataset: { output: out } }, portIn(OUTPUTS, out, true),
          h("span", { class: "pname" }, out), h("small", { class: "binding" }, describe(value)), remove);
      }),
      h("div", { class: "row in-row new" }, portIn(OUTPUTS, "", false), h("small", { class: "muted" }, "connect a result here")),
    ];
  }

  function stepNode(id, step) {
    const endpoint = endpointOf(cat, step.call);
    if (!endpoint) return [h("p", { class: "error" }, `unknown call ${step.call}`)];
    return [
      endpoint.inputs.map((port) => {
        const bound = step.with[port.name];
        return h("div", { class: "row in-row", dataset: { port: port.name } }, portIn(id, port.name, bound !== undefined),
          h("span", { class: "pname" }, port.name, port.required ? "*" : ""), h("small", { class: "ptype" }, portLabel(port)),
          bound !== undefined ? h("small", { class: "binding" }, describe(bound)) : null);
      }),
      h("hr"),
      endpoint.outputs.map((port) => h("div", { class: "row out-row", dataset: { field: port.name } },
        h("span", { class: "pname" }, port.name), h("small", { class: "ptype" }, portLabel(port)), portOut(`$${id}.${port.name}`))),
    ];
  }

  function node(id, title, subtitle, body, kind) {
    const head = h("header", {}, h("strong", {}, title), subtitle ? h("small", { class: "muted" }, subtitle) : null);
    const el = h("div", { class: `node ${kind}${selected === id ? " selected" : ""}`, dataset: { node: id }, style: `left:${pos[id].x}px;top:${pos[id].y}px` }, head, body);
    head.addEventListener("mousedown", (e) => moveNode(e, id, el));
    if (kind === "step") el.addEventListener("click", (e) => { if (!e.target.closest(".port")) { selected = id; draw(); } });
    return el;
  }

  function draw() {
    place();
    for (const id of Object.keys(pos)) if (![INPUTS, OUTPUTS].includes(id) && !(id in doc.steps)) delete pos[id];
    const nodes = [
      node(INPUTS, "Inputs", "the pipeline's", inputsNode(), "io"),
      ...Object.entries(doc.steps).map(([id, step]) => node(id, id, step.call + (step.when ? " ◇" : ""), stepNode(id, step), "step")),
      node(OUTPUTS, "Outputs", "the pipeline's", outputsNode(), "io"),
    ];
    fill(canvas, wires, ...nodes);
    drawWires();
    drawInspector();
  }

  const centre = (el) => {
    const box = canvas.getBoundingClientRect();
    const r = el.getBoundingClientRect();
    return { x: r.left + r.width / 2 - box.left + canvas.scrollLeft, y: r.top + r.height / 2 - box.top + canvas.scrollTop };
  };
  const curve = (a, b) => `M${a.x},${a.y} C${a.x + 60},${a.y} ${b.x - 60},${b.y} ${b.x},${b.y}`;

  function drawWires() {
    wires.setAttribute("width", canvas.scrollWidth);
    wires.setAttribute("height", canvas.scrollHeight);
    const paths = [];
    const wire = (value, node, port) => {
      for (const ref of refsOf(value)) {
        const source = canvas.querySelector(`.port.out[data-ref="${CSS.escape(`$${ref.root}.${ref.path[0]}`)}"]`);
        const target = canvas.querySelector(`.port.in[data-node="${CSS.escape(node)}"][data-port="${CSS.escape(port)}"]`);
        if (!source || !target) continue;
        const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
        path.setAttribute("d", curve(centre(source), centre(target)));
        path.setAttribute("class", `wire${ref.fallback ? " fallback" : ""}`);
        path.dataset.wire = `$${ref.root}.${ref.path[0]}>${node}.${port}`;
        paths.push(path);
      }
    };
    for (const [id, step] of Object.entries(doc.steps)) for (const [port, value] of Object.entries(step.with)) wire(value, id, port);
    for (const [out, value] of Object.entries(doc.outputs)) wire(value, OUTPUTS, out);
    fill(wires, ...paths);
  }

  function moveNode(event, id, el) {
    if (event.button !== 0 || event.target.closest("input,select,button")) return;
    event.preventDefault();
    const start = { ...pos[id] };
    const move = (e) => {
      pos[id] = { x: Math.max(0, start.x + e.clientX - event.clientX), y: Math.max(0, start.y + e.clientY - event.clientY) };
      el.style.left = `${pos[id].x}px`;
      el.style.top = `${pos[id].y}px`;
      drawWires();
    };
    const up = () => { document.removeEventListener("mousemove", move); document.removeEventListener("mouseup", up); };
    document.addEventListener("mousemove", move);
    document.addEventListener("mouseup", up);
  }

  // connecting: press on an output port, release on an input port
  canvas.addEventListener("mousedown", (event) => {
    const source = event.target.closest(".port.out");
    if (!source || event.button !== 0) return;
    event.preventDefault();
    const from = centre(source);
    const line = document.createElementNS("http://www.w3.org/2000/svg", "path");
    line.setAttribute("class", "wire pending");
    wires.append(line);
    const move = (e) => {
      const box = canvas.getBoundingClientRect();
      line.setAttribute("d", curve(from, { x: e.clientX - box.left + canvas.scrollLeft, y: e.clientY - box.top + canvas.scrollTop }));
    };
    const up = (e) => {
      document.removeEventListener("mousemove", move);
      document.removeEventListener("mouseup", up);
      line.remove();
      const target = document.elementFromPoint(e.clientX, e.clientY)?.closest(".port.in");
      if (target) connect(source.dataset.ref, target.dataset.node, target.dataset.port);
    };
    document.addEventListener("mousemove", move);
    document.addEventListener("mouseup", up);
  });

  // -- the inspector: the selected step's literals, condition and options ----------------
  function drawInspector() {
    const step = selected && doc.steps[selected];
    if (!step) {
      fill(inspector, h("h3", {}, "Step"), h("p", { class: "muted" },
        "Select a step to set its literal inputs, its condition and its options. Connect an output port (right) to an input port (left) to pass a result."));
      return;
    }
    const id = selected;
    const endpoint = endpointOf(cat, step.call);
    const idField = h("input", { id: "step-id", value: id, spellcheck: "false" });
    idField.addEventListener("change", () => { if (renameStep(id, idField.value.trim())) changed(); else idField.value = id; });
    const when = h("input", { id: "step-when", value: step.when || "", placeholder: "e.g. words($transcribe.text) > 0", spellcheck: "false" });
    when.addEventListener("change", () => { if (when.value.trim()) step.when = when.value.trim(); else delete step.when; changed(); });
    const optional = h("input", { type: "checkbox", id: "step-optional", checked: !!step.optional });
    optional.addEventListener("change", () => { if (optional.checked) step.optional = true; else delete step.optional; changed(); });
    const remove = h("button", { type: "button", id: "delete-step", class: "danger" }, "Remove step");
    remove.addEventListener("click", () => { removeStep(id); changed(); });
    const literals = (endpoint ? endpoint.inputs : []).map((port) => {
      const bound = step.with[port.name];
      if (bound !== undefined && refsOf(bound).length) {
        const cut = h("button", { type: "button", class: "small" }, "disconnect");
        cut.addEventListener("click", () => { delete step.with[port.name]; changed(); });
        return h("div", { class: "form-row" }, h("label", {}, port.name), h("code", {}, describe(bound)), cut);
      }
      const field = h("input", {
        id: `literal-${port.name}`, spellcheck: "false",
        value: bound === undefined ? "" : typeof bound === "string" && port.type === "string" ? bound : JSON.stringify(bound),
        placeholder: port.json_schema?.default !== undefined ? `default ${JSON.stringify(port.json_schema.default)}` : portLabel(port),
      });
      field.addEventListener("change", () => {
        const text = field.value;
        if (text === "") delete step.with[port.name];
        else if (port.type === "string") step.with[port.name] = text;
        else {
          try { step.with[port.name] = JSON.parse(text); } catch { step.with[port.name] = text; }
        }
        changed();
      });
      return h("div", { class: "form-row" }, h("label", { for: field.id }, port.name, h("small", { class: "muted" }, ` ${portLabel(port)}`)), field,
        port.description ? h("small", { class: "muted" }, port.description) : null);
    });
    fill(inspector, h("h3", {}, "Step"),
      h("div", { class: "form-row" }, h("label", { for: "step-id" }, "id"), idField),
      h("p", {}, h("code", {}, step.call)),
      h("h4", {}, "Literal inputs"), literals,
      h("div", { class: "form-row" }, h("label", { for: "step-when" }, "Condition (CEL)"), when),
      h("label", {}, optional, " optional: its failure does not fail the run"),
      remove);
  }

  changed();
}
