// One store: live phase, what to do on failure, progress checklist, timeline,
// its own domains (domains.js) and its backups (backups.js), Visit store, admin
// credentials on demand, change of plan, the software release and its upgrade
// (release.js), sleep and wake, delete with typed confirmation.

import { h, icon } from "./dom.js";
import { stores as api } from "./api.js";
import { backupsPanel } from "./backups.js";
import { domainsPanel } from "./domains.js";
import { DOMAIN_STATES, ENGINES, PHASES, PLANS, clock, conditionLabel, nextStep, stepLabel } from "./format.js";
import { eventTime, loadTimeline, putStore, state } from "./state.js";
import { releasePanel } from "./release.js";
import { backLink, copyButton, phaseBadge, storeLink, timeAgo } from "./widgets.js";

export function renderDetail(main, id) {
  const parts = {
    head: h("div", { class: "detail-head" }),
    alert: h("div", { id: "store-alert" }),
    progress: h("div", { id: "store-progress" }),
    timeline: h("ol", { class: "timeline", id: "timeline", role: "log", "aria-label": "Store activity, newest first" }),
  };
  const credentials = credentialsPanel(id);
  const plan = planPanel(id);
  const release = releasePanel(id);
  const sleep = sleepPanel(id);
  const danger = deletePanel(id);
  const panels = [domainsPanel(id), backupsPanel(id)];
  main.replaceChildren(backLink(), parts.head, parts.alert,
    h("div", { class: "detail-grid" },
      h("div", { class: "main-col" },
        h("section", { class: "card", "aria-labelledby": "activity-heading" },
          h("h2", { id: "activity-heading", text: "Activity" }),
          h("p", { class: "hint", text: "Steps and Kubernetes events appear here as they happen." }),
          parts.timeline),
        panels.map((p) => p.section)),
      h("div", { class: "side" }, parts.progress, credentials, plan.form, release.form, sleep.form, danger)));
  const update = () => {
    const s = state.stores.get(id);
    renderHead(parts.head, s, id);
    renderAlert(parts.alert, s);
    renderProgress(parts.progress, s);
    credentials.hidden = !s || s.phase !== "ready";
    danger.hidden = !s || s.phase === "deleted" || s.phase === "deleting";
    plan.show(s, danger.hidden);
    release.show(s, danger.hidden);
    sleep.show(s, danger.hidden);
    panels.forEach((p) => p.show(s, danger.hidden));
  };
  const missing = !state.stores.has(id);
  update();
  if (missing) api.get(id).then(putStore, () => renderGone(parts.head, id));
  loadTimeline(id).catch(() => {});
  renderTimeline(parts.timeline, id);
  return (change) => {
    if (change.kind === "resync") return panels.forEach((p) => p.reload());
    if (change.id !== id && change.kind !== "list") return;
    if (change.kind === "timeline") renderTimeline(parts.timeline, id);
    else if (change.kind === "event") panels.forEach((p) => p.apply(change.event));
    else update();
  };
}

function renderHead(el, s, id) {
  if (!s) return el.replaceChildren(h("h1", { tabindex: "-1", text: id }), h("p", { class: "muted", text: "Loading…" }));
  const visit = s.phase === "ready" && s.url ? storeLink(s.url) : null;
  const url = s.url && s.phase === "ready"
    ? h("p", { class: "url" }, h("a", { href: s.url, target: "_blank", rel: "noopener" }, s.url))
    : null;
  const meta = `${s.id} · ${ENGINES[s.engine] || s.engine} · ${s.plan} plan · created `;
  el.replaceChildren(...[
    h("div", {}, h("h1", { tabindex: "-1" }, s.display_name || s.id),
      h("p", { class: "store-meta" }, meta, timeAgo(s.created_at))),
    h("div", { class: "head-status" }, phaseBadge(s.phase), visit),
    url,
  ].filter(Boolean));
}

function renderGone(el, id) {
  el.replaceChildren(h("h1", { tabindex: "-1", text: id }),
    h("p", { class: "muted", text: "This store does not exist, or it was deleted." }));
}

function renderAlert(el, s) {
  if (!s) return el.replaceChildren();
  if (s.phase === "failed" || s.phase === "degraded") {
    const title = s.phase === "failed" ? "This store could not be set up" : "This store needs attention";
    return el.replaceChildren(h("div", { class: `alert alert-${s.phase}`, role: "alert" },
      icon("warn", 20),
      h("div", {},
        h("h2", { text: title }),
        h("p", { class: "reason" }, h("strong", { text: s.reason || "Unknown reason" }), s.message ? ` — ${s.message}` : ""),
        h("p", {}, h("strong", { text: "What to do: " }), nextStep(s.reason)))));
  }
  if (s.phase === "deleted") {
    return el.replaceChildren(h("div", { class: "alert alert-info", role: "status" },
      h("p", {}, "This store was deleted. ", h("a", { href: "#/", text: "Back to your stores" }))));
  }
  el.replaceChildren();
}

function renderProgress(el, s) {
  if (!s || s.phase === "deleted") return el.replaceChildren();
  // Asleep, its workloads are at zero replicas: "ready" by their own count, but
  // nothing runs, so no checklist says "running".
  const conditions = s.phase === "asleep" ? [] : s.conditions || [];
  const note = PHASES[s.phase]?.hint || "";
  el.replaceChildren(h("section", { class: "card", "aria-labelledby": "progress-heading" },
    h("h2", { id: "progress-heading", text: "Progress" }),
    h("p", { class: "muted", text: note }),
    conditions.length
      ? h("ul", { class: "checklist", role: "list" }, conditions.map((c) => {
        const ok = c.status === "True";
        return h("li", { class: ok ? "ok" : "wait" }, icon(ok ? "check" : "dot", 16),
          h("span", {}, conditionLabel(c.type)),
          h("span", { class: "sr-only", text: ok ? " — done" : " — not yet" }));
      }))
      : h("p", { class: "hint", text: s.phase === "asleep"
        ? "Waking it starts its database and web server again."
        : "Details appear once the cluster reports on this store." })));
}

function renderTimeline(el, id) {
  const events = state.timelines.get(id) || [];
  if (events.length === 0) {
    return el.replaceChildren(h("li", { class: "muted empty-log", text: "Nothing yet — waiting for the first step." }));
  }
  el.replaceChildren(...withoutRepeats(events).reverse().map(entry));
}

// The watcher re-reports a status when only a condition's detail moved; one line says it.
function withoutRepeats(events) {
  let last = "";
  return events.filter((e) => {
    if (e.type !== "store-status") return true;
    const said = `${e.phase}|${e.reason}|${e.message}`;
    const repeat = said === last;
    last = said;
    return !repeat;
  });
}

function entry(e) {
  const when = h("time", { datetime: eventTime(e) }, clock(eventTime(e)));
  if (e.type === "store-progress") {
    const mark = { succeeded: "check", failed: "cross", retrying: "retry", started: "dot" }[e.state] || "dot";
    return h("li", { class: `ev ev-step step-${e.state}` }, icon(mark, 16), when,
      h("span", { class: "ev-title" }, stepLabel(e.step), e.state === "retrying" ? " — retrying" : e.state === "failed" ? " — failed" : ""),
      e.message ? h("span", { class: "ev-msg" }, e.message) : null);
  }
  if (e.type === "kube-event") {
    const warn = e.event_type === "Warning";
    return h("li", { class: `ev ev-kube${warn ? " warning" : ""}` }, icon(warn ? "warn" : "cube", 16), when,
      h("span", { class: "ev-title" }, `${e.object_kind}/${e.object_name} · ${e.reason}`, e.count > 1 ? ` ×${e.count}` : ""),
      h("span", { class: "ev-msg" }, e.message));
  }
  if (e.type === "backup-status") return namedEntry(when, e.state, `Backup ${e.backup} · ${e.state}`, e.message);
  if (e.type === "domain-status") {
    const said = e.removed ? "removed" : DOMAIN_STATES[e.state]?.label || e.state;
    return namedEntry(when, e.state, `Domain ${e.domain} · ${said}`, e.removed ? "" : e.reason);
  }
  const label = PHASES[e.phase]?.label || e.phase;
  return h("li", { class: `ev ev-phase ev-${e.phase}` }, icon("dot", 16), when,
    h("span", { class: "ev-title" }, e.reason ? `${label} · ${e.reason}` : label),
    e.message ? h("span", { class: "ev-msg" }, e.message) : null);
}

// A backup's or a domain's news: its name and state, and what it says.
function namedEntry(when, state, title, message) {
  const mark = { succeeded: "check", active: "check", failed: "cross" }[state] || "dot";
  return h("li", { class: `ev ev-step step-${state}` }, icon(mark, 16), when,
    h("span", { class: "ev-title" }, title),
    message ? h("span", { class: "ev-msg" }, message) : null);
}

function credentialsPanel(id) {
  const body = h("div", {});
  const reveal = h("button", { type: "button", class: "btn" }, icon("eye", 16), "Show admin login");
  const panel = h("section", { class: "card", "aria-labelledby": "creds-heading" },
    h("h2", { id: "creds-heading", text: "Store admin" }),
    h("p", { class: "hint", text: "Fetched from the store when you ask; never stored by Urumi." }), reveal, body);
  reveal.addEventListener("click", async () => {
    reveal.disabled = true;
    try {
      const c = await api.credentials(id);
      reveal.hidden = true;
      body.replaceChildren(h("dl", { class: "creds" },
        pair("Admin page", h("a", { href: c.admin_url, target: "_blank", rel: "noopener" }, c.admin_url)),
        pair("Username", h("code", {}, c.username), copyButton(c.username, "username")),
        pair("Password", h("code", {}, c.password), copyButton(c.password, "password"))));
    } catch (err) {
      body.replaceChildren(h("p", { class: "form-error", role: "alert", text: err.message }));
    } finally {
      reveal.disabled = false;
    }
  });
  return panel;
}

function pair(label, ...values) {
  return h("div", { class: "pair" }, h("dt", { text: label }), h("dd", {}, ...values));
}

// Compute follows the plan; volumes keep the size they were created with.
function planPanel(id) {
  const select = h("select", { id: "change-plan", "aria-describedby": "plan-hint" },
    Object.entries(PLANS).map(([value, label]) => h("option", { value, text: label })));
  const hint = h("p", { id: "plan-hint", class: "hint" });
  const button = h("button", { type: "submit", class: "btn", disabled: true }, "Change plan");
  const error = h("p", { class: "form-error", role: "alert" });
  const form = h("form", { class: "card", "aria-labelledby": "plan-heading" },
    h("h2", { id: "plan-heading", text: "Plan" }), hint,
    h("div", { class: "field" }, h("label", { for: "change-plan", text: "Choose a plan" }), select),
    button, error);
  let current = null;
  const show = (s, hidden) => {
    form.hidden = hidden;
    if (!s || s.plan === current) return;
    current = s.plan;
    select.value = s.plan;
    button.disabled = true;
    const disk = PLANS[s.storage_plan] || s.storage_plan;
    hint.textContent = `CPU and memory follow the plan. The store keeps its data, and its disks stay the size of the ${disk} plan it was created with.`;
  };
  select.addEventListener("change", () => { button.disabled = select.value === current; });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    error.textContent = "";
    try {
      putStore(await api.update(id, { plan: select.value }));
    } catch (err) {
      error.textContent = err.message;
      button.disabled = false;
    }
  });
  return { form, show };
}

// Asleep: no pod runs (no CPU or memory used), the data stays, and visitors see
// the platform's "asleep" page until the store is woken, or, when its plan
// allows it (`wake_on_visit_plans` of /me), the first visit wakes it.
function sleepPanel(id) {
  const hint = h("p", { id: "sleep-hint", class: "hint" });
  const button = h("button", { type: "submit", class: "btn", "aria-describedby": "sleep-hint" });
  const error = h("p", { class: "form-error", role: "alert" });
  const form = h("form", { class: "card", "aria-labelledby": "sleep-heading" },
    h("h2", { id: "sleep-heading", text: "Sleep" }), hint, button, error);
  let asleep = false;
  const show = (s, hidden) => {
    form.hidden = hidden || !s;
    if (!s) return;
    asleep = Boolean(s.asleep);
    const byVisit = (state.me?.wake_on_visit_plans || []).includes(s.plan);
    button.textContent = asleep ? "Wake this store" : "Put this store to sleep";
    hint.textContent = asleep
      ? (byVisit
        ? "This store is asleep: nothing runs. A shopper's first visit wakes it (they see a “waking up” page until it is ready), or wake it now; all its data is kept."
        : "This store is asleep: nothing runs and visitors see an “asleep” page. Waking it starts it again with all its data.")
      : (byVisit
        ? `A sleeping store uses no CPU or memory and keeps all its data; on the ${s.plan} plan a shopper's first visit wakes it.`
        : "A sleeping store uses no CPU or memory and keeps all its data; visitors see an “asleep” page until you wake it.");
  };
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    error.textContent = "";
    try {
      putStore(await (asleep ? api.wake(id) : api.sleep(id)));
    } catch (err) {
      error.textContent = err.message;
    } finally {
      button.disabled = false;
    }
  });
  return { form, show };
}

function deletePanel(id) {
  const input = h("input", { id: "confirm-delete", autocomplete: "off", spellcheck: "false", autocapitalize: "none", "aria-describedby": "confirm-hint" });
  const button = h("button", { type: "submit", class: "btn btn-danger", disabled: true }, "Delete this store");
  const error = h("p", { class: "form-error", role: "alert" });
  const form = h("form", { class: "card danger", "aria-labelledby": "delete-heading" },
    h("h2", { id: "delete-heading", text: "Delete store" }),
    h("p", { id: "confirm-hint", class: "hint" }, "Removes the store, its database, orders and files. This cannot be undone. Type ", h("code", {}, id), " to confirm."),
    h("div", { class: "field" }, h("label", { for: "confirm-delete", text: "Store id" }), input),
    button, error);
  input.addEventListener("input", () => { button.disabled = input.value !== id; });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (input.value !== id) return;
    button.disabled = true;
    button.textContent = "Deleting…";
    try {
      putStore(await api.remove(id));
    } catch (err) {
      error.textContent = err.message;
      button.disabled = false;
    } finally {
      button.textContent = "Delete this store";
    }
  });
  return form;
}
