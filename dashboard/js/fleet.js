// The fleet upgrades pages of the admin's area: every fleet upgrade with its
// progress and a form to start one (#/admin), and one fleet's stores by wave with
// Pause, Resume and Cancel (#/admin/fleets/<id>). Each render returns
// update(error?), which admin.js calls whenever the fleet book changed.

import { h, icon } from "./dom.js";
import { ApiError, adminSession, fleets as api } from "./api.js";
import { ENGINES } from "./format.js";
import { MEMBER_STATES, controls, fleetsNewestFirst, putFleets, waves } from "./fleet-state.js";
import { engineReleases, versions } from "./release.js";
import { badge, field, setError, showFieldErrors, timeAgo } from "./widgets.js";

const STATES = {
  running: "Running", paused: "Paused", cancelling: "Cancelling", cancelled: "Cancelled",
  halted: "Halted", done: "Done",
  waiting: "Waiting", upgrading: "Upgrading", upgraded: "Upgraded", failed: "Failed", skipped: "Skipped",
};
const BUSY = new Set(["running", "cancelling", "upgrading"]);

function stateBadge(state) {
  return badge(`fleet-${state}`, STATES[state] || state, BUSY.has(state));
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function title(f) {
  return `${ENGINES[f.engine] || f.engine} → ${f.to_release}`;
}

function waveText(f) {
  return f.wave === 0 ? `No wave started yet (${f.waves} planned)` : `Wave ${f.wave} of ${f.waves}`;
}

// The stores of the fleet by state: a bar for the eye, the numbers for everyone.
function progress(f) {
  const total = MEMBER_STATES.reduce((n, s) => n + f.counts[s], 0);
  const said = MEMBER_STATES.filter((s) => f.counts[s] > 0).map((s) => `${f.counts[s]} ${s}`).join(", ");
  return h("div", { class: "fleet-progress" },
    h("div", { class: "fleet-bar", "aria-hidden": "true" },
      MEMBER_STATES.map((s) => h("span", { class: `seg seg-${s}`, style: `flex-grow: ${f.counts[s]}` }))),
    h("p", { class: "fleet-counts" }, `${said} (${total} stores)`));
}

export function renderFleets(main, book) {
  const list = h("div", { id: "fleet-list", "aria-live": "polite" },
    h("p", { class: "muted", text: "Loading fleet upgrades…" }));
  main.replaceChildren(
    h("div", { class: "page-head" }, h("div", {},
      h("h1", { tabindex: "-1", text: "Fleet upgrades" }),
      h("p", { class: "muted", text: "Every store of an engine moved to a release, a wave at a time." }))),
    startForm(book),
    h("section", { "aria-labelledby": "fleets-heading" },
      h("h2", { id: "fleets-heading", text: "Upgrades" }), list));
  return (error) => {
    if (error) return list.replaceChildren(h("p", { class: "form-error", role: "alert", text: error.message }));
    const items = fleetsNewestFirst(book);
    if (items.length === 0) {
      return list.replaceChildren(h("div", { class: "empty card" },
        icon("cube", 28), h("p", { text: "No fleet upgrade yet. Start one above." })));
    }
    list.replaceChildren(h("ul", { class: "fleets", role: "list" }, items.map(fleetRow)));
  };
}

function fleetRow(f) {
  return h("li", { class: "fleet-row card", "data-fleet": f.id },
    h("div", { class: "fleet-main" },
      h("a", { class: "store-name", href: `#/admin/fleets/${encodeURIComponent(f.id)}` }, title(f)),
      h("span", { class: "store-meta" }, "Started ", timeAgo(f.created_at), ` by ${f.actor}`)),
    h("div", {}, stateBadge(f.state)),
    h("div", { class: "fleet-wave" }, waveText(f)),
    progress(f),
    f.message ? h("p", { class: "fleet-message muted", text: f.message }) : null);
}

// The engine's releases, the latest preselected: a fleet upgrade moves stores forward.
function targetPicker(engine) {
  const select = h("select", { id: "fleet-release", name: "to_release" });
  const hint = h("span", {});
  const load = async () => {
    const asked = engine.value;
    select.replaceChildren();
    hint.textContent = "Loading releases…";
    let entry;
    try {
      entry = await engineReleases(asked, adminSession.token);
    } catch (err) {
      hint.textContent = `Releases could not be loaded: ${err.message}`;
      return;
    }
    if (engine.value !== asked) return; // another engine was chosen meanwhile
    select.replaceChildren(...entry.releases.map((r) => h("option", {
      value: r.name, text: r.name === entry.latest ? `${r.name} (latest)` : r.name,
    })));
    select.value = entry.latest;
    const describe = () => {
      const picked = entry.releases.find((r) => r.name === select.value);
      hint.textContent = picked ? `${versions(picked)}. Stores at older releases are upgraded.` : "";
    };
    select.onchange = describe;
    describe();
  };
  engine.addEventListener("change", load);
  load();
  return { select, hint };
}

const FIELDS = {
  engine: "fleet-engine", to_release: "fleet-release", wave: "fleet-wave", max_failures: "fleet-max-failures",
};

function startForm(book) {
  const engine = h("select", { id: "fleet-engine", name: "engine" },
    Object.entries(ENGINES).map(([v, l]) => h("option", { value: v }, l)));
  const target = targetPicker(engine);
  const wave = h("input", { id: "fleet-wave", name: "wave", value: "10%", autocomplete: "off", spellcheck: "false" });
  const failures = h("input", {
    id: "fleet-max-failures", name: "max_failures", type: "number", min: "0", step: "1", value: "0", inputmode: "numeric",
  });
  const formError = h("p", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Start upgrade");
  const form = h("form", { class: "card create", novalidate: true, "aria-labelledby": "start-heading" },
    h("h2", { id: "start-heading", text: "Start a fleet upgrade" }),
    h("div", { class: "grid" },
      field("fleet-engine", "Engine", engine, "Every live store of this engine, of every tenant."),
      field("fleet-release", "Upgrade to", target.select, target.hint),
      field("fleet-wave", "Wave size", wave, "Stores per wave: a count (10) or a share of the fleet (10%)."),
      field("fleet-max-failures", "Failures tolerated", failures, "Failed stores roll back; one more than this halts the upgrade."),
    ),
    h("div", { class: "actions" }, submit, formError));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    formError.textContent = "";
    Object.values(FIELDS).forEach((id) => setError(form, id, null));
    // Sent as typed unless a whole number: the API's 422 then names the field.
    const max = failures.value.trim();
    submit.disabled = true;
    submit.textContent = "Starting…";
    try {
      const fleet = await api.start({
        engine: engine.value, to_release: target.select.value, wave: wave.value.trim(),
        max_failures: /^-?\d+$/.test(max) ? Number(max) : max,
      });
      putFleets(book, [fleet]);
      location.hash = `#/admin/fleets/${encodeURIComponent(fleet.id)}`;
    } catch (err) {
      if (!showFieldErrors(form, FIELDS, err)) formError.textContent = err.message;
    } finally {
      submit.disabled = false;
      submit.textContent = "Start upgrade";
    }
  });
  return form;
}

export function renderFleet(main, book, id) {
  const head = h("div", { class: "detail-head" }, h("h1", { tabindex: "-1", text: "Fleet upgrade" }));
  const status = h("section", { class: "card", id: "fleet-status", "aria-labelledby": "status-heading" });
  const buttons = Object.fromEntries(["pause", "resume", "cancel"].map((action) => [action,
    h("button", { type: "button", class: action === "cancel" ? "btn btn-danger" : "btn", disabled: true },
      action[0].toUpperCase() + action.slice(1))]));
  const actionError = h("p", { class: "form-error", role: "alert" });
  const wavesEl = h("div", { id: "fleet-waves", class: "fleet-waves" }, h("p", { class: "muted", text: "Loading stores…" }));
  main.replaceChildren(
    h("a", { class: "back", href: "#/admin" }, icon("arrow", 16), "All fleet upgrades"),
    head, status, wavesEl);
  const update = (error) => {
    if (error) {
      const gone = error instanceof ApiError && error.status === 404;
      return wavesEl.replaceChildren(h("p", { class: "form-error", role: "alert",
        text: gone ? "This fleet upgrade does not exist." : error.message }));
    }
    const f = book.fleets.get(id);
    if (!f) return;
    head.replaceChildren(
      h("div", {}, h("h1", { tabindex: "-1" }, title(f)),
        h("p", { class: "store-meta" },
          `Waves of up to ${plural(f.wave_size, "store")} · ${plural(f.max_failures, "failure")} tolerated · started `,
          timeAgo(f.created_at), ` by ${f.actor}`)),
      h("div", { class: "head-status" }, stateBadge(f.state)));
    const allowed = controls(f.state);
    for (const [action, button] of Object.entries(buttons)) button.disabled = !allowed[action];
    status.replaceChildren(
      h("h2", { id: "status-heading", text: waveText(f) }),
      progress(f),
      h("p", { id: "fleet-message", role: "status", text: f.message }),
      h("div", { class: "actions" }, buttons.pause, buttons.resume, buttons.cancel, actionError));
    const grouped = waves(book, id);
    if (grouped) wavesEl.replaceChildren(...grouped.map(waveTable));
  };
  for (const [action, button] of Object.entries(buttons)) {
    button.addEventListener("click", async () => {
      button.disabled = true;
      actionError.textContent = "";
      try {
        putFleets(book, [await api.control(id, action)]);
      } catch (err) {
        actionError.textContent = err.message;
      }
      update();
    });
  }
  return update;
}

function waveTable({ wave, stores }) {
  const counts = MEMBER_STATES.map((s) => [s, stores.filter((m) => m.state === s).length])
    .filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`).join(", ");
  return h("section", { class: "card fleet-wave-card", "data-wave": wave, "aria-labelledby": `wave-${wave}` },
    h("h2", { id: `wave-${wave}` }, `Wave ${wave}`, h("span", { class: "muted wave-counts" }, ` · ${counts}`)),
    h("table", { class: "members" },
      h("thead", {}, h("tr", {}, ["Store", "Tenant", "From", "State", "Reason"].map((c) => h("th", { scope: "col", text: c })))),
      h("tbody", {}, stores.map((m) => h("tr", { "data-store": m.store },
        h("th", { scope: "row", text: m.store }),
        h("td", { text: m.tenant }),
        h("td", { text: m.from_release }),
        h("td", {}, stateBadge(m.state)),
        h("td", { class: "reason", text: m.reason }))))));
}
