// A pipeline as a graph: its references, a layout in columns, and a static SVG drawing.
import { h } from "./dom.js";

export const INPUTS = "$inputs";
export const OUTPUTS = "$outputs";
const REFERENCE = /^\$([a-z][a-z0-9_]*)((?:\.[A-Za-z_][A-Za-z0-9_]*)+)$/;

/** {root, path} of a reference ("$inputs.audio", "$transcribe.text"), else null. */
export function parseRef(value) {
  if (typeof value !== "string" || value.startsWith("$$")) return null;
  const match = REFERENCE.exec(value);
  return match ? { root: match[1], path: match[2].slice(1).split(".") } : null;
}

const isFallback = (v) => v && typeof v === "object" && !Array.isArray(v) && "from" in v;

/** The references a bound value makes: [ref, fallback?]. */
export function refsOf(value) {
  if (isFallback(value)) {
    return [parseRef(value.from), parseRef(value.default)].filter(Boolean)
      .map((r, i) => ({ ...r, fallback: i > 0 }));
  }
  const ref = parseRef(value);
  return ref ? [{ ...ref, fallback: false }] : [];
}

const nodeOf = (ref) => (ref.root === "inputs" ? INPUTS : ref.root);

/** Every edge: {from: node, field, to: node, port, fallback}. */
export function edges(doc) {
  const found = [];
  for (const [id, step] of Object.entries(doc.steps || {})) {
    for (const [port, value] of Object.entries(step.with || {})) {
      for (const ref of refsOf(value)) {
        found.push({ from: nodeOf(ref), field: ref.path[0], to: id, port, fallback: ref.fallback });
      }
    }
    for (const need of step.needs || []) found.push({ from: need, field: null, to: id, port: null, needs: true });
  }
  for (const [name, value] of Object.entries(doc.outputs || {})) {
    for (const ref of refsOf(value)) {
      found.push({ from: nodeOf(ref), field: ref.path[0], to: OUTPUTS, port: name, fallback: ref.fallback });
    }
  }
  return found;
}

/** Column of each node: inputs first, each step after what it reads, outputs last. */
export function columns(doc) {
  const steps = Object.keys(doc.steps || {});
  const all = edges(doc);
  const depth = { [INPUTS]: 0 };
  const visit = (id, seen = new Set()) => {
    if (depth[id] != null) return depth[id];
    if (seen.has(id) || !steps.includes(id)) return 0;
    seen.add(id);
    const before = all.filter((e) => e.to === id && e.from !== INPUTS).map((e) => visit(e.from, seen));
    depth[id] = 1 + Math.max(0, ...before);
    return depth[id];
  };
  steps.forEach((id) => visit(id));
  depth[OUTPUTS] = 1 + Math.max(0, ...steps.map((id) => depth[id]));
  return depth;
}

/** Positions {node: {x, y}} for nodes that have none yet: a column per depth, the nodes
 * of a column stacked by their height (``heightOf(id)``, in pixels). */
export function layout(doc, positions = {}, { width = 290, heightOf = () => 160, gap = 24, x0 = 20, y0 = 20 } = {}) {
  const depth = columns(doc);
  const bottom = {};
  const placed = { ...positions };
  for (const id of [INPUTS, ...Object.keys(doc.steps || {}), OUTPUTS]) {
    const column = depth[id] ?? 0;
    const x = x0 + column * width;
    const p = placed[id] || (placed[id] = { x, y: bottom[column] ?? y0 });
    if (p.x === x) bottom[column] = Math.max(bottom[column] ?? y0, p.y + heightOf(id) + gap);
  }
  return placed;
}

/** A drawing of the pipeline: its inputs, steps (conditions marked) and outputs. */
export function drawing(doc) {
  const depth = columns(doc);
  const W = 170, H = 46, GX = 60, GY = 24;
  const nodes = [];
  if (Object.keys(doc.inputs || {}).length) nodes.push({ id: INPUTS, title: "inputs", sub: Object.keys(doc.inputs).join(", ") });
  for (const [id, step] of Object.entries(doc.steps || {})) nodes.push({ id, title: id, sub: step.call, when: step.when, optional: step.optional });
  if (Object.keys(doc.outputs || {}).length) nodes.push({ id: OUTPUTS, title: "outputs", sub: Object.keys(doc.outputs).join(", ") });
  const rows = {};
  const at = {};
  for (const node of nodes) {
    const column = depth[node.id] ?? 0;
    const row = (rows[column] = (rows[column] ?? -1) + 1);
    at[node.id] = { x: 10 + column * (W + GX), y: 10 + row * (H + GY) };
  }
  const width = 20 + Math.max(...Object.values(at).map((p) => p.x)) + W;
  const height = 20 + Math.max(...Object.values(at).map((p) => p.y)) + H;
  const svgNS = "http://www.w3.org/2000/svg";
  const el = (tag, attrs, ...kids) => {
    const e = document.createElementNS(svgNS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    for (const kid of kids) e.append(kid);
    return e;
  };
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, width, height, class: "graph", role: "img" });
  const seen = new Set();
  for (const e of edges(doc)) {
    const key = `${e.from}>${e.to}`;
    if (seen.has(key) || !at[e.from] || !at[e.to]) continue;
    seen.add(key);
    const a = at[e.from], b = at[e.to];
    const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2;
    svg.append(el("path", { d: `M${x1},${y1} C${x1 + GX / 2},${y1} ${x2 - GX / 2},${y2} ${x2},${y2}`,
      class: `edge${e.needs ? " needs" : ""}${e.fallback ? " fallback" : ""}` }));
  }
  for (const node of nodes) {
    const p = at[node.id];
    const kind = node.id === INPUTS || node.id === OUTPUTS ? "io" : "step";
    const group = el("g", { class: `node ${kind}${node.when ? " conditional" : ""}`, "data-node": node.id });
    const title = el("title", {});
    title.textContent = node.when ? `when: ${node.when}` : node.sub;
    const name = el("text", { x: p.x + 8, y: p.y + 18, class: "name" });
    name.textContent = node.title + (node.when ? " ◇" : "") + (node.optional ? " (optional)" : "");
    const sub = el("text", { x: p.x + 8, y: p.y + 36, class: "sub" });
    sub.textContent = node.sub.length > 26 ? `${node.sub.slice(0, 25)}…` : node.sub;
    group.append(title, el("rect", { x: p.x, y: p.y, width: W, height: H, rx: 6 }), name, sub);
    svg.append(group);
  }
  return h("div", { class: "graph-box" }, svg);
}
