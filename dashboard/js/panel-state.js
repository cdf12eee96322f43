// What the store page's Domains and Backups panels know, and how the live
// `domain-status` and `backup-status` events change it. No DOM and no requests
// here: tests/unit/test_dashboard_panel_state.py runs this file in Node.js on
// views and events encoded by the platform's own contracts.
//
// Each panel is fed by GETs and by the websocket's events, which may arrive
// before or after a GET answers.

import { instant } from "./format.js";

// Domains. A domain's view and its events carry the instant of its last change
// (`updated_at`, an event's `at`); the newer word wins, and an event as new as
// the view is applied (it is the same change). A removal is kept with its
// instant, so an older answer cannot bring the domain back; the domain added
// again later is newer than that.

export function newDomainBook() {
  // heard: how many events were applied, to tell a GET what it may not know.
  return { domains: new Map(), removed: new Map(), heard: 0 };
}

function removedAt(book, name) {
  return book.removed.get(name) ?? -Infinity;
}

/** One domain's view (an add's answer, or a GET's item); whether it is shown. */
export function putDomain(book, view) {
  const at = instant(view.updated_at);
  const known = book.domains.get(view.domain);
  if (at <= removedAt(book, view.domain) || (known && at < instant(known.updated_at))) return false;
  book.domains.set(view.domain, { ...view, heard: known?.heard ?? -1 });
  return true;
}

/** GET …/domains, asked when `book.heard` was `asked`: every domain it lists,
 * and a domain it does not list is gone unless an event told of it since. */
export function putDomainList(book, items, asked) {
  const listed = new Set(items.map((d) => d.domain));
  for (const [name, d] of book.domains) {
    if (!listed.has(name) && d.heard < asked) book.domains.delete(name);
  }
  items.forEach((d) => putDomain(book, d));
}

/** A `domain-status` event; whether it changed what is shown. */
export function applyDomainStatus(book, event) {
  if (event?.type !== "domain-status") return false;
  const at = instant(event.at);
  const known = book.domains.get(event.domain);
  if (at <= removedAt(book, event.domain) || (known && at < instant(known.updated_at))) return false;
  book.heard += 1;
  if (event.removed) {
    book.domains.delete(event.domain);
    book.removed.set(event.domain, at);
    return true;
  }
  const { domain, store, state, reason, records } = event;
  book.domains.set(domain, {
    domain, store, state, reason, records,
    created_at: known?.created_at ?? event.at, updated_at: event.at, heard: book.heard,
  });
  return true;
}

/** The domain removed here (DELETE answered): gone as of its last known change. */
export function dropDomain(book, name) {
  const known = book.domains.get(name);
  if (!known) return;
  book.domains.delete(name);
  book.removed.set(name, Math.max(removedAt(book, name), instant(known.updated_at)));
}

/** In the order added, as the API lists them. */
export function domainsInOrder(book) {
  return [...book.domains.values()].sort((a, b) => instant(a.created_at) - instant(b.created_at));
}

// Backups. A backup only moves forward: pending → running → succeeded or
// failed (a finished backup never runs again), and a succeeded one is listed
// expired past its plan's retention. Events come in the watcher's order, each
// with its `observed_at`; a GET's view has no such instant and replaces what is
// known unless that is further along.

const STEP = { pending: 0, running: 1, succeeded: 2, failed: 2, expired: 3 };

export function newBackupBook() {
  return { backups: new Map() };
}

/** Views from a GET or a "Back up now" answer. */
export function putBackups(book, views) {
  for (const view of views) {
    const known = book.backups.get(view.id);
    if (!known || STEP[view.state] >= STEP[known.state]) {
      book.backups.set(view.id, { ...view, observed: known?.observed ?? -Infinity });
    }
  }
}

/** A `backup-status` event, folded as the gateway folds it into its row
 * (services/gateway/backups.py); whether it changed what is shown. */
export function applyBackupStatus(book, event) {
  if (event?.type !== "backup-status") return false;
  const known = book.backups.get(event.backup);
  const observed = instant(event.observed_at);
  if (known && (STEP[event.state] < STEP[known.state] || observed < known.observed)) return false;
  const { state, trigger, message } = event;
  book.backups.set(event.backup, {
    id: event.backup, store: event.store, expires_at: null, ...known,
    state, trigger, message, observed,
    created_at: known?.created_at ?? (event.started_at || event.observed_at),
    started_at: event.started_at || known?.started_at || null,
    completed_at: event.completed_at || known?.completed_at || null,
    size_bytes: event.size_bytes || known?.size_bytes || 0,
  });
  return true;
}

/** Newest first, as the API lists them. */
export function backupsNewestFirst(book) {
  const time = (b) => instant(b.created_at);
  return [...book.backups.values()].sort((a, b) => time(b) - time(a) || b.id.localeCompare(a.id));
}

/** Whether a store can start from the backup (restored into its own, or
 * cloned into a new one): a succeeded backup, not expired. */
export function restorable(backup) {
  return backup.state === "succeeded";
}
