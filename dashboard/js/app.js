// Boot: sign-in gate, hash router, and the live connection feeding the state.

import { session, stores as api } from "./api.js";
import { renderDetail } from "./detail.js";
import { useNextSteps } from "./format.js";
import { renderList } from "./list.js";
import { Live } from "./live.js";
import { renderSignIn } from "./signin.js";
import { applyFrame, loadStores, state, subscribe } from "./state.js";
import { refreshTimes } from "./widgets.js";

const main = document.getElementById("main");
const sessionBar = document.getElementById("session");
let live = null;
let unsubscribe = () => {};

const LIVE_TEXT = {
  connecting: "Connecting…",
  live: "Live",
  offline: "Reconnecting…",
  unauthorized: "Signed out",
};

function setLive(status) {
  const el = document.getElementById("live");
  el.dataset.state = status;
  el.querySelector(".live-text").textContent = LIVE_TEXT[status] || status;
  if (status === "unauthorized") signOut();
}

function onFrame(frame) {
  // A fresh snapshot means events may have been missed: re-read the list once.
  if (frame.type === "hello" && !frame.resumed && state.loaded) loadStores().catch(() => {});
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

function signOut() {
  session.token = "";
  if (live) live.stop();
  live = null;
  state.stores.clear();
  state.timelines.clear();
  state.loaded = false;
  sessionBar.hidden = true;
  unsubscribe();
  location.hash = "#/";
  renderSignIn(main, start);
}

function route() {
  if (!live) return;
  unsubscribe();
  const match = location.hash.match(/^#\/stores\/([^/]+)$/);
  const onChange = match ? renderDetail(main, decodeURIComponent(match[1])) : renderList(main);
  unsubscribe = subscribe(onChange);
  document.title = match ? `${decodeURIComponent(match[1])} — Urumi` : "Urumi — your stores";
  // Move focus to the new page's heading so keyboard and screen reader users follow.
  const heading = main.querySelector("h1");
  if (heading && document.activeElement !== document.body) heading.focus({ preventScroll: false });
}

window.addEventListener("hashchange", route);
document.getElementById("signout").addEventListener("click", signOut);
setInterval(() => refreshTimes(main), 30_000);

async function boot() {
  try {
    useNextSteps(await api.nextSteps());
  } catch {
    // Without the table a failed store still shows its reason and message.
  }
  if (!session.token) return renderSignIn(main, start);
  try {
    await start(await api.me());
  } catch {
    signOut();
  }
}

boot();
