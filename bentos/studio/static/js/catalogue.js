// The catalogue: every service, its endpoints with their typed ports, a link to its OpenAPI.
import { fill, h } from "./dom.js";
import { services } from "./api.js";

export const portLabel = (port) => (port.type === "file" ? `file ${port.media}` : port.type);

function ports(list, kind) {
  return h("table", { class: "ports" },
    h("thead", {}, h("tr", {}, h("th", {}, kind), h("th", {}, "type"), h("th", {}, ""))),
    h("tbody", {}, list.map((port) => h("tr", {},
      h("td", {}, h("code", {}, port.name), port.required && kind === "inputs" ? h("span", { class: "required", title: "required" }, " *") : null),
      h("td", {}, h("span", { class: `type t-${port.type}` }, portLabel(port)), port.nullable ? h("small", { class: "muted" }, " or null") : null),
      h("td", { class: "muted" }, port.description || "")))));
}

export async function cataloguePage(view) {
  const cat = await services();
  fill(view, h("h2", {}, "Catalogue"),
    h("p", { class: "muted" }, "Every service of the marketplace, its endpoints and their typed ports: what a pipeline step can call."),
    h("div", { class: "catalogue" }, cat.services.map((service) =>
      h("article", { class: "card service", dataset: { service: service.name } },
        h("header", {},
          h("h3", {}, service.name, " ", h("small", { class: "muted" }, `v${service.version}`)),
          service.gpu ? h("span", { class: "badge gpu" }, "GPU") : null,
          h("a", { href: `/api/services/${service.name}/openapi.json`, class: "openapi", target: "_blank" }, "OpenAPI")),
        h("p", {}, service.summary),
        h("ul", { class: "chips" }, service.tags.map((t) => h("li", {}, t))),
        service.endpoints.map((endpoint) => h("section", { class: "endpoint" },
          h("h4", {}, h("code", {}, `${service.name}/${endpoint.name}`), " ", h("small", { class: "muted" }, `POST ${endpoint.route}`)),
          h("p", { class: "muted" }, endpoint.summary),
          h("div", { class: "ports-io" }, ports(endpoint.inputs, "inputs"), ports(endpoint.outputs, "outputs"))))))));
}
