// What the fleet upgrades page knows, and how a `fleet-progress` event changes
// it. No DOM and no requests here: tests/unit/test_dashboard_fleet_state.py runs
// this file in Node.js on events encoded by the platform's own contracts.
//
// Two sources feed it: GETs (the list, one fleet's stores) and the websocket's
// events, which may arrive before or after a GET answers. Each fleet summary
// carries `updated_at`, the time of the change it shows; the newer one wins,
// and an event as new as what is known is applied (a failed store's event keeps
// the fleet's `updated_at`, yet its counts and member are new).

import { instant } from "./format.js";

export const MEMBER_STATES = ["waiting", "upgrading", "upgraded", "failed", "skipped"];

export function newFleetBook() {
  // members: fleet id → store → {member, at}: `at` the instant of the summary it
  // came with; detailed: the fleets whose every store a GET listed.
  return { fleets: new Map(), members: new Map(), detailed: new Set() };
}

function knownAt(book, id) {
  const known = book.fleets.get(id);
  return known ? instant(known.updated_at) : -Infinity;
}

/** Summaries from a GET: each replaces what is known unless that is newer. */
export function putFleets(book, summaries) {
  for (const fleet of summaries) {
    if (instant(fleet.updated_at) > knownAt(book, fleet.id)) book.fleets.set(fleet.id, fleet);
  }
}

/** GET /api/v1/fleet-upgrades/{id}: the summary, and every store of the fleet. A
 * store an event told about at or after the GET's instant keeps the event's word. */
export function putDetail(book, { fleet, stores }) {
  putFleets(book, [fleet]);
  const at = instant(fleet.updated_at);
  const known = book.members.get(fleet.id) || new Map();
  const members = new Map(stores.map((m) => {
    const live = known.get(m.store);
    return [m.store, live && live.at >= at ? live : { member: m, at }];
  }));
  book.members.set(fleet.id, members);
  book.detailed.add(fleet.id);
}

/** A `fleet-progress` event; whether it changed what is shown. An event older
 * than what is known (a GET answered after it was sent) is ignored. */
export function applyProgress(book, event) {
  if (event?.type !== "fleet-progress") return false;
  const { fleet, changed } = event;
  const at = instant(fleet.updated_at);
  if (at < knownAt(book, fleet.id)) return false;
  book.fleets.set(fleet.id, fleet);
  // Kept even before the fleet's GET answers: that answer may be older than this.
  if (!book.members.has(fleet.id)) book.members.set(fleet.id, new Map());
  const members = book.members.get(fleet.id);
  for (const m of changed) members.set(m.store, { member: m, at });
  return true;
}

/** Newest first, as the API lists them. */
export function fleetsNewestFirst(book) {
  return [...book.fleets.values()].sort((a, b) => instant(b.created_at) - instant(a.created_at));
}

/** The fleet's stores by wave: [{wave, stores: [member…]}], waves and stores in
 * order; null until a GET listed them all (events name only the stores that moved). */
export function waves(book, id) {
  if (!book.detailed.has(id)) return null;
  const byWave = new Map();
  for (const { member } of book.members.get(id)?.values() || []) {
    if (!byWave.has(member.wave)) byWave.set(member.wave, []);
    byWave.get(member.wave).push(member);
  }
  return [...byWave.entries()]
    .sort(([a], [b]) => a - b)
    .map(([wave, stores]) => ({ wave, stores: stores.sort((a, b) => a.store.localeCompare(b.store)) }));
}

/** Which controls a fleet in `state` accepts (services/gateway/fleet_plan.py). */
export function controls(state) {
  return {
    pause: state === "running",
    resume: state === "paused",
    cancel: state === "running" || state === "paused",
  };
}
