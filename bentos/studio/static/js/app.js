// The studio's pages, one route each (the part after #):
//   /                 the cover app          /covers/<run>     a cover run
//   /catalogue        every service          /pipelines        the pipelines, with graphs
//   /pipelines/<name> one pipeline           /editor[/<name>]  the visual editor
//   /run/<name>       a pipeline's run form  /runs[/<run>]     your runs, one run live
import { fill, h } from "./dom.js";
import { api, explain } from "./api.js";
import { coverForm, coverRun } from "./covers.js";
import { cataloguePage } from "./catalogue.js";
import { pipelinePage, pipelinesPage } from "./pipelines.js";
import { editorPage } from "./editor.js";
import { runForm, runList, runPage } from "./run.js";

const view = document.getElementById("view");
let stop = null; // the current page's live updates

const ROUTES = [
  [/^\/?$/, () => coverForm(view)],
  [/^\/covers\/([0-9a-f]{32})$/, (id) => coverRun(view, id)],
  [/^\/catalogue$/, () => cataloguePage(view)],
  [/^\/pipelines$/, () => pipelinesPage(view)],
  [/^\/pipelines\/([a-z0-9-]+)$/, (name) => pipelinePage(view, name)],
  [/^\/editor(?:\/([a-z0-9-]+))?$/, (name) => editorPage(view, name)],
  [/^\/run\/([a-z0-9-]+)$/, (name) => runForm(view, name)],
  [/^\/runs$/, () => runList(view)],
  [/^\/runs\/([0-9a-f]{32})$/, (id, query) => runPage(view, id, query.get("share"))],
];

async function route() {
  if (stop) stop();
  stop = null;
  const [path, search = ""] = location.hash.replace(/^#/, "").split("?");
  const query = new URLSearchParams(search);
  for (const link of document.querySelectorAll("nav a")) {
    link.classList.toggle("active", link.getAttribute("href") === `#${path.split("/").slice(0, 2).join("/") || "/"}`);
  }
  for (const [pattern, page] of ROUTES) {
    const match = pattern.exec(path || "/");
    if (!match) continue;
    try {
      const result = await page(...match.slice(1), query);
      if (typeof result === "function") stop = result;
    } catch (err) {
      fill(view, h("p", { class: "error", role: "alert" }, explain(err)));
    }
    return;
  }
  fill(view, h("p", { class: "error", role: "alert" }, `No page at ${path}.`), h("a", { href: "#/" }, "Back to the cover app"));
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
