// What the page knows: stores (from the API, kept current by live events) and
// each store's timeline. Views subscribe and re-render what changed.

import { stores as api } from "./api.js";

const TIMELINE_MAX = 400;

export const state = {
  me: null,
  stores: new Map(),
  timelines: new Map(),
  loaded: false,
  listeners: new Set(),
  fetching: new Set(),
};

export function subscribe(fn) {
  state.listeners.add(fn);
  return () => state.listeners.delete(fn);
}

function emit(change) {
  for (const fn of state.listeners) fn(change);
}

// Every page: a tenant may have more stores than one page of the API holds.
async function allStores() {
  const items = [];
  let after = null;
  do {
    const page = await api.list(after);
    items.push(...page.items);
    after = page.next_after;
  } while (after);
  return items;
}

export async function loadStores() {
  const items = await allStores();
  // Live events may be newer than the API's projection of them: keep the newer.
  const newer = (a, b) => a && Date.parse(a.updated_at) > Date.parse(b.updated_at);
  state.stores = new Map(items.map((s) => {
    const known = state.stores.get(s.id);
    return [s.id, newer(known, s) ? { ...s, ...known } : s];
  }));
  state.loaded = true;
  emit({ kind: "list" });
}

/** Events may have been missed (a fresh snapshot after a reconnect): views
 * read again what they hold, and the list is read again. */
export function resync() {
  emit({ kind: "resync" });
  return loadStores();
}

export function putStore(view) {
  state.stores.set(view.id, { ...state.stores.get(view.id), ...view });
  emit({ kind: "store", id: view.id });
}

/** A frame from the notifier. */
export function applyFrame(frame) {
  if (frame.type === "snapshot") frame.statuses.forEach((s) => applyEvent(s, false));
  if (frame.type === "event") applyEvent(frame.event, true, frame.seq);
}

// Events a panel of the store's page folds itself (panel-state.js).
const PANEL_EVENTS = new Set(["domain-status", "backup-status"]);

function applyEvent(event, live, seq) {
  const current = state.stores.get(event.store);
  if (!current) return learnAbout(event.store);
  if (live) addToTimeline(event.store, [{ ...event, seq }]);
  if (PANEL_EVENTS.has(event.type)) return emit({ kind: "event", id: event.store, event });
  const next = nextView(current, event);
  if (next) {
    state.stores.set(event.store, next);
    emit({ kind: "store", id: event.store });
  }
}

// A store made elsewhere (another tab, the CLI): ask the API once, on its event.
async function learnAbout(id) {
  if (state.fetching.has(id)) return;
  state.fetching.add(id);
  try {
    putStore(await api.get(id));
  } catch {
    // Deleted meanwhile or not ours to see: nothing to show.
  } finally {
    state.fetching.delete(id);
  }
}

// The platform's merge (services/contracts/store_state.py), so the live page and
// a reload agree: newest generation wins, and a few moves are not allowed.
// tests/vectors/store_state.json holds this and the Python fold to the same rules.
const AFTER_DELETING = new Set(["deleting", "deleted"]);
const AFTER_FAILED = new Set(["failed", "ready", "degraded", "asleep", "deleting", "deleted"]);

function allowed(current, next) {
  if (current === "deleted") return false;
  if (current === "deleting") return AFTER_DELETING.has(next);
  if (current === "failed") return AFTER_FAILED.has(next);
  return true;
}

/** The store view after an event, or null when it changes nothing shown. */
export function nextView(view, event) {
  if (event.generation < view.generation) return null;
  const sameSpec = event.generation === view.generation;
  if (event.type === "store-status") {
    if (!allowed(view.phase, event.phase)) return null;
    // The watcher says "pending" until it sees objects; after the provisioner
    // said "provisioning" for the same spec that is not a step back.
    const held = sameSpec && view.phase === "provisioning" && event.phase === "pending";
    const { generation, reason, message, conditions } = event;
    return {
      ...view, phase: held ? view.phase : event.phase, generation, url: event.url || view.url,
      reason, message, conditions, updated_at: event.observed_at,
    };
  }
  if (event.type !== "store-progress" || !event.phase) return null;
  // Retried steps must not pull a store the watcher already reports on back.
  if (event.phase === "provisioning" && sameSpec && view.phase !== "pending") return null;
  if (!allowed(view.phase, event.phase)) return null;
  // Kubernetes never saw this failure: the step that failed is its reason, as the
  // gateway stores it, so what to do stays the same after a reload.
  const failed = event.phase === "failed";
  return {
    ...view, phase: event.phase, generation: event.generation,
    reason: failed ? event.step : "", message: failed ? event.message : "",
    updated_at: event.at,
  };
}

export function eventTime(e) {
  return e.at || e.observed_at || "";
}

// History from the API and live events overlap; the same fact has the same content.
function key(e) {
  const what = e.step || e.reason || e.phase || "";
  return [e.type, eventTime(e), what, e.state || "", e.object_name || "", e.message || ""].join("|");
}

export function addToTimeline(id, events) {
  const list = state.timelines.get(id) || [];
  const seen = new Set(list.map(key));
  const fresh = events.filter((e) => !seen.has(key(e)));
  if (fresh.length === 0) return;
  const when = (e) => Date.parse(eventTime(e)) || 0;
  const merged = [...list, ...fresh].sort((a, b) => when(a) - when(b));
  state.timelines.set(id, merged.slice(-TIMELINE_MAX));
  emit({ kind: "timeline", id });
}

export async function loadTimeline(id) {
  const { items } = await api.events(id);
  // Items are {seq, type, at, event: {…}} (or the event's fields inline).
  addToTimeline(id, items.map((item) => item.event || item));
}
