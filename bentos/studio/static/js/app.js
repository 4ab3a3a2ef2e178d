// The studio's pages, one route each (the part after #):
//   /                 the cover app          /covers/<run>     a cover run
//   /catalogue        every service          /pipelines        the pipelines, with graphs
//   /pipelines/<name> one pipeline           /editor[/<name>]  the visual editor
//   /run/<name>       a pipeline's run form  /runs[/<run>]     your runs, one run live
//   /segment          the segmentation viewer
import { fill, h } from "./dom.js";
import { api, explain } from "./api.js";
import { coverForm, coverRun } from "./covers.js";
import { cataloguePage } from "./catalogue.js";
import { pipelinePage, pipelinesPage } from "./pipelines.js";
import { editorPage } from "./editor.js";
import { runForm, runList, runPage } from "./run.js";
import { segmentPage } from "./segment.js";

const view = document.getElementById("view");
let stop = null; // the current page's live updates

// Each page renders into its own container, which leaves the document when the next
// navigation starts: a slow page never draws over a newer one.
const ROUTES = [
  [/^\/?$/, (at) => coverForm(at)],
  [/^\/covers\/([0-9a-f]{32})$/, (at, id) => coverRun(at, id)],
  [/^\/catalogue$/, (at) => cataloguePage(at)],
  [/^\/pipelines$/, (at) => pipelinesPage(at)],
  [/^\/pipelines\/([a-z0-9-]+)$/, (at, name) => pipelinePage(at, name)],
  [/^\/editor(?:\/([a-z0-9-]+))?$/, (at, name) => editorPage(at, name)],
  [/^\/run\/([a-z0-9-]+)$/, (at, name) => runForm(at, name)],
  [/^\/runs$/, (at) => runList(at)],
  [/^\/runs\/([0-9a-f]{32})$/, (at, id, query) => runPage(at, id, query.get("share"))],
  [/^\/segment$/, (at) => segmentPage(at)],
];

let visit = 0; // a page that finishes loading after the next navigation is dropped

async function route() {
  if (stop) stop();
  stop = null;
  const mine = ++visit;
  const [path, search = ""] = location.hash.replace(/^#/, "").split("?");
  const query = new URLSearchParams(search);
  for (const link of document.querySelectorAll("nav a")) {
    link.classList.toggle("active", link.getAttribute("href") === `#${path.split("/").slice(0, 2).join("/") || "/"}`);
  }
  const match = ROUTES.map(([pattern, page]) => [pattern.exec(path || "/"), page]).find(([m]) => m);
  if (!match) {
    fill(view, h("p", { class: "error", role: "alert" }, `No page at ${path}.`), h("a", { href: "#/" }, "Back to the cover app"));
    return;
  }
  const [found, page] = match;
  const container = h("div", { class: "page" }, h("p", { class: "muted" }, "Loading…"));
  fill(view, container);
  try {
    const result = await page(container, ...found.slice(1), query);
    if (typeof result === "function") {
      if (mine === visit) stop = result;
      else result(); // navigated away meanwhile
    }
  } catch (err) {
    if (mine === visit) fill(container, h("p", { class: "error", role: "alert" }, explain(err)));
  }
}

async function banner() {
  try {
    const about = await api("/about");
    const note = document.getElementById("profile-note");
    note.textContent = about.note || "";
    note.hidden = !about.note;
  } catch { /* the pages say when the studio is unreachable */ }
}

window.addEventListener("hashchange", route);
banner();
route();
