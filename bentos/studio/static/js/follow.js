// Follow a run: its state now, then each step event over Server-Sent Events. The browser's
// EventSource reconnects by itself with Last-Event-ID (a restarted studio misses nothing);
// while the run waits in the queue its position is polled.
import { api } from "./api.js";

const KINDS = ["started", "retrying", "finished", "skipped", "failed", "cancelled"];
const QUEUE_POLL_MS = 1000;
const RETRY_MS = 3000;
const ENDED = new Set(["done", "failed", "cancelled"]);

export function follow(runId, share, onRun, onError) {
  const query = share ? `?share=${encodeURIComponent(share)}` : "";
  let source = null;
  let timer = null;
  let stopped = false;
  let pending = null;
  let last = null;
  let reopen = null;
  let gone = false;

  let again = false; // an event came while the state was being fetched: fetch it again
  const refresh = async () => {
    if (pending) {
      again = true;
      return pending;
    }
    pending = (async () => {
      try {
        const run = await api(`/runs/${runId}${query}`);
        if (stopped) return;
        last = run;
        onRun(run);
        clearTimeout(timer);
        if (run.status === "queued") timer = setTimeout(refresh, QUEUE_POLL_MS);
        if (ENDED.has(run.status) && source) { source.close(); source = null; }
      } catch (err) {
        if (!stopped) onError(err);
        if (err.status >= 400 && err.status < 500) gone = true; // deleted, expired, not yours
      } finally {
        pending = null;
        if (again && !stopped) {
          again = false;
          refresh();
        }
      }
    })();
    return pending;
  };

  const open = () => {
    if (stopped || gone || (last && ENDED.has(last.status))) return;
    source = new EventSource(`/api/runs/${runId}/events${query}`);
    for (const kind of KINDS) source.addEventListener(kind, refresh);
    source.addEventListener("end", () => { source?.close(); source = null; refresh(); });
    source.onopen = refresh; // after a reconnection, the state may have moved on
    source.onerror = () => {
      // the browser retries a dropped connection by itself, but gives up on an error
      // answer (a studio still starting): then open a new one a little later
      if (source && source.readyState === EventSource.CLOSED) {
        source = null;
        reopen = setTimeout(() => { refresh(); open(); }, RETRY_MS);
      }
    };
  };
  refresh().then(open);

  return () => {
    stopped = true;
    clearTimeout(timer);
    clearTimeout(reopen);
    source?.close();
  };
}

export const ended = (run) => ENDED.has(run.status);

export function queueText(run) {
  if (run.status !== "queued") return "";
  if (run.position == null) return "waiting in the queue";
  return run.position === 1 ? "next to start" : `number ${run.position} in the queue`;
}
