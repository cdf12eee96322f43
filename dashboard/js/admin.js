// The platform admin's area (#/admin…): signed in with the admin token, kept
// apart from a tenant's; the fleet upgrades, read from the API and kept current
// by the platform's live events (the notifier's `fleet-progress`, with an admin
// ticket), reconnecting and resuming as the tenant's page does (live.js).

import { adminSession, fleets as api } from "./api.js";
import { applyProgress, newFleetBook, putDetail, putFleets } from "./fleet-state.js";
import { renderFleet, renderFleets } from "./fleet.js";
import { Live } from "./live.js";
import { ADMIN, renderSignIn } from "./signin.js";
import { focusHeading, showLive } from "./widgets.js";

let book = newFleetBook();
let live = null;
let main = null;
let shown = null; // {update, fleet}: the page on screen, re-rendered on every change
let loaded = false;

function fleetRoute() {
  const match = location.hash.match(/^#\/admin\/fleets\/([^/]+)$/);
  return match ? decodeURIComponent(match[1]) : null;
}

export function routeAdmin(to) {
  main = to;
  if (!adminSession.token) {
    document.getElementById("session").hidden = true;
    document.title = "Platform admin — Urumi";
    return renderSignIn(main, () => routeAdmin(main), ADMIN);
  }
  document.getElementById("tenant").textContent = "Platform admin";
  document.getElementById("session").hidden = false;
  if (!live) {
    live = new Live(onFrame, setLive, api.ticket);
    live.start();
  }
  const fleet = fleetRoute();
  const update = fleet ? renderFleet(main, book, fleet) : renderFleets(main, book);
  shown = { update, fleet };
  document.title = fleet ? "Fleet upgrade — Urumi" : "Fleet upgrades — Urumi";
  focusHeading(main);
  load();
}

/** Leaves the area if it was shown (its token stays); whether it was. */
export function leaveAdmin() {
  if (!main) return false;
  if (live) live.stop();
  live = null;
  main = null;
  shown = null;
  document.getElementById("session").hidden = true;
  return true;
}

export function signOutAdmin(to) {
  adminSession.token = "";
  book = newFleetBook();
  loaded = false;
  if (!leaveAdmin()) return;
  location.hash = "#/admin";
  routeAdmin(to);
}

// What the page shows, from the API; what live events said meanwhile is kept
// when it is newer (fleet-state.js).
async function load() {
  const page = shown;
  try {
    if (page.fleet) putDetail(book, await api.get(page.fleet));
    else putFleets(book, (await api.list()).items);
    loaded = true;
  } catch (err) {
    if (err.status === 401) return signOutAdmin(main);
    if (page === shown) page.update(err);
    return;
  }
  if (page === shown) page.update();
}

function onFrame(frame) {
  // A fresh start (not resumed) means events may have been missed: read again.
  if (frame.type === "hello" && !frame.resumed && loaded && shown) load();
  if (frame.type === "event" && applyProgress(book, frame.event) && shown) shown.update();
}

function setLive(status) {
  showLive(status);
  if (status === "unauthorized") signOutAdmin(main);
}
