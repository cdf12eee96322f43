// A store's software: the engine release it runs, a notice when a newer one
// exists, and an upgrade to it (PATCH release: the next generation, whose setup
// step migrates the database). Only newer releases are offered: migrations are
// one-way, so the API refuses a downgrade unless asked explicitly. When the
// store has a previous generation, "Roll back to <release>" returns it to that
// generation's spec (POST …/rollback; its setup step dumped the database before
// the upgrade).

import { h } from "./dom.js";
import { api, stores } from "./api.js";
import { putStore } from "./state.js";

// One GET /api/v1/releases per page load, shared by the launch form and the
// store page; a failed load is forgotten, so the next use asks again.
let catalog = null;

/** The engine's releases (oldest first) with its `default` and `latest`; any
 * token may read them (the tenant's, or the admin's on the fleet page). */
export function engineReleases(engine, token = undefined) {
  catalog ??= api("GET", "/api/v1/releases", undefined, token).catch((err) => {
    catalog = null;
    throw err;
  });
  return catalog.then((c) => c.engines.find((e) => e.engine === engine) || { releases: [] });
}

export function versions(release) {
  return Object.entries(release?.versions || {}).map(([name, v]) => `${name} ${v}`).join(", ");
}

export function releasePanel(id) {
  const summary = h("p", { id: "release-summary", class: "hint" });
  // Filled or emptied rather than hidden: the classes below set `display`.
  const notice = h("div", { id: "release-notice", role: "status" });
  const select = h("select", { id: "change-release", "aria-describedby": "release-summary release-hint" });
  const field = h("div", { class: "field" }, h("label", { for: "change-release", text: "Upgrade to" }), select);
  const hint = h("p", { id: "release-hint", class: "hint", text: "Upgrading updates the store's software and its database; it cannot be undone here." });
  const button = h("button", { type: "submit", class: "btn", disabled: true }, "Upgrade");
  const error = h("p", { class: "form-error", role: "alert" });
  const upgrade = h("div", {});
  const back = h("button", { type: "button", class: "btn", id: "rollback" });
  const rollback = h("div", {});
  const form = h("form", { class: "card", "aria-labelledby": "release-heading" },
    h("h2", { id: "release-heading", text: "Software" }), summary, notice, upgrade, rollback, error);
  let shown = null;
  const offerRollback = async () => {
    let previous = null;
    try {
      previous = await stores.rollbackTarget(id);
    } catch (err) {
      // 409: nothing to roll back to (a first generation, or a store being deleted).
      if (err.status !== 409) error.textContent = err.message;
    }
    back.textContent = previous ? `Roll back to ${previous.release}` : "";
    back.title = previous ? `Return to generation ${previous.generation}'s spec (plan ${previous.plan})` : "";
    rollback.replaceChildren(...(previous ? [back] : []));
  };
  const show = async (s, hidden) => {
    form.hidden = hidden || !s?.release;
    const key = s && `${s.release}|${s.latest_release}|${s.generation}`;
    if (form.hidden || key === shown) return;
    shown = key;
    let releases = [];
    try {
      releases = (await engineReleases(s.engine)).releases;
    } catch (err) {
      error.textContent = err.message;
    }
    const at = releases.findIndex((r) => r.name === s.release);
    summary.textContent = `Release ${s.release}${at >= 0 ? `: ${versions(releases[at])}` : ""}.`;
    const latest = releases.find((r) => r.name === s.latest_release);
    const offer = `A newer release is available: ${s.latest_release}${latest ? ` (${versions(latest)})` : ""}.`;
    notice.replaceChildren(...(s.upgrade_available ? [h("p", { class: "alert alert-info", text: offer })] : []));
    const newer = at >= 0 ? releases.slice(at + 1) : releases.filter((r) => r.name === s.latest_release);
    select.replaceChildren(...newer.map((r) => h("option", { value: r.name, text: r.name })));
    select.value = s.latest_release;
    upgrade.replaceChildren(...(newer.length ? [field, hint, button] : []));
    button.disabled = newer.length === 0;
    await offerRollback();
  };
  back.addEventListener("click", async () => {
    back.disabled = true;
    error.textContent = "";
    try {
      putStore(await stores.rollback(id));
    } catch (err) {
      error.textContent = err.message;
    }
    back.disabled = false;
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    error.textContent = "";
    try {
      putStore(await stores.update(id, { release: select.value }));
    } catch (err) {
      error.textContent = err.message;
      button.disabled = false;
    }
  });
  return { form, show };
}
