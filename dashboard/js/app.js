// Boot: sign-in gate, hash router, and the live connection feeding the state.
// #/admin… is the platform admin's area (admin.js), with its own session.

import { leaveAdmin, routeAdmin, signOutAdmin } from "./admin.js";
import { session, stores as api } from "./api.js";
import { renderDetail } from "./detail.js";
import { useNextSteps } from "./format.js";
import { renderList } from "./list.js";
import { Live } from "./live.js";
import { renderSignIn } from "./signin.js";
import { applyFrame, loadStores, resync, state, subscribe } from "./state.js";
import { focusHeading, refreshTimes, showLive } from "./widgets.js";

const main = document.getElementById("main");
const sessionBar = document.getElementById("session");
let live = null;
let unsubscribe = () => {};

function setLive(status) {
  showLive(status);
  if (status === "unauthorized") signOut();
}

function onFrame(frame) {
  // A fresh snapshot means events may have been missed: re-read what is shown once.
  if (frame.type === "hello" && !frame.resumed && state.loaded) resync().catch(() => {});
  applyFrame(frame);
}

async function start(me) {
  state.me = me;
  document.getElementById("tenant").textContent = me.tenant;
  sessionBar.hidden = false;
  live = new Live(onFrame, setLive);
  live.start();
  route();
  try {
    await loadStores();
  } catch (err) {
    if (err.status === 401) signOut();
  }
}

// The tenant's page is left (for the admin's area): its token stays.
function stopTenant() {
  if (live) live.stop();
  live = null;
  unsubscribe();
}

function signOut() {
  session.token = "";
  stopTenant();
  state.stores.clear();
  state.timelines.clear();
  state.loaded = false;
  sessionBar.hidden = true;
  location.hash = "#/";
  renderSignIn(main, start);
}

function route() {
  if (location.hash.startsWith("#/admin")) {
    stopTenant();
    return routeAdmin(main);
  }
  if (leaveAdmin()) return enterTenant();
  if (!live) return;
  unsubscribe();
  const match = location.hash.match(/^#\/stores\/([^/]+)$/);
  const onChange = match ? renderDetail(main, decodeURIComponent(match[1])) : renderList(main);
  unsubscribe = subscribe(onChange);
  document.title = match ? `${decodeURIComponent(match[1])} — Urumi` : "Urumi — your stores";
  focusHeading(main);
}

async function enterTenant() {
  if (!session.token) return renderSignIn(main, start);
  try {
    await start(await api.me());
  } catch {
    signOut();
  }
}

window.addEventListener("hashchange", route);
document.getElementById("signout").addEventListener("click", () => {
  if (location.hash.startsWith("#/admin")) signOutAdmin(main);
  else signOut();
});
setInterval(() => refreshTimes(main), 30_000);

async function boot() {
  try {
    useNextSteps(await api.nextSteps());
  } catch {
    // Without the table a failed store still shows its reason and message.
  }
  if (location.hash.startsWith("#/admin")) return routeAdmin(main);
  await enterTenant();
}

boot();
