// The studio's API, from the page: same origin, the owner token travels in its cookie.

export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    super(body.detail || body.error || `HTTP ${status}`);
    this.status = status;
    this.code = body.error;
    this.retryAfter = retryAfter;
  }
}

export async function api(path, { method = "GET", body, type } = {}) {
  const headers = type ? { "Content-Type": type } : {};
  let response;
  try {
    response = await fetch(`/api${path}`, { method, body, headers, credentials: "same-origin" });
  } catch (err) {
    throw new ApiError(0, { error: "unreachable", detail: `the studio is unreachable (${err.message})` });
  }
  if (response.status === 204) return null;
  const kind = response.headers.get("content-type") || "";
  const data = kind.includes("json") ? await response.json() : { detail: await response.text() };
  if (!response.ok) throw new ApiError(response.status, data, response.headers.get("retry-after"));
  return data;
}

export const postJson = (path, value) =>
  api(path, { method: "POST", body: JSON.stringify(value), type: "application/json" });

/** A readable sentence for an error, 429's wait included. */
export function explain(err) {
  if (err.status === 429 && err.retryAfter) return `${err.message} (retry in ${err.retryAfter} s)`;
  return err.message;
}

export function fileUrl(runId, name, share) {
  const query = share ? `?share=${encodeURIComponent(share)}` : "";
  return `/api/runs/${runId}/files/${encodeURIComponent(name)}${query}`;
}

export function archiveUrl(runId, share) {
  return `/api/runs/${runId}/archive.zip${share ? `?share=${encodeURIComponent(share)}` : ""}`;
}

let catalogue = null;
/** The catalogue, fetched once per page. */
export async function services() {
  catalogue = catalogue || api("/services").catch((err) => {
    catalogue = null; // tried again next time
    throw err;
  });
  return catalogue;
}

export function endpointOf(cat, call) {
  const [service, name] = call.split("/");
  const entry = cat.services.find((s) => s.name === service);
  return entry ? entry.endpoints.find((e) => e.name === name) : undefined;
}
