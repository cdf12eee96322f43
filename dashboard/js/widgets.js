// Small pieces shared by the views.

import { h, icon } from "./dom.js";
import { BUSY, PHASES, absolute, relative } from "./format.js";

/** A state as a badge: `kind` its class, a pulsing pip while `busy`. */
export function badge(kind, label, busy, title = undefined) {
  return h("span", { class: `badge ${kind}`, title },
    h("span", { class: `pip${busy ? " busy" : ""}`, "aria-hidden": "true" }), label);
}

export function phaseBadge(phase) {
  const p = PHASES[phase] || { label: phase, hint: "" };
  return badge(`phase-${phase}`, p.label, BUSY.has(phase), p.hint);
}

/** A state of `table` (format.js's DOMAIN_STATES, BACKUP_STATES) as a badge. */
export function toneBadge(table, state) {
  const s = table[state] || { label: state, tone: "idle" };
  return badge(`tone-${s.tone}`, s.label, s.tone === "busy");
}

export function copyButton(text, what) {
  const btn = h("button", { type: "button", class: "btn btn-quiet btn-small", "aria-label": `Copy ${what}` }, icon("copy", 14), "Copy");
  btn.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      btn.lastChild.textContent = "Copied";
    } catch {
      btn.lastChild.textContent = "Select and copy";
    }
  });
  return btn;
}

/** `parent` holding one element per item, in order: an item's element is built
 * again only when its `signature` changed, so focus stays on the controls of
 * the others while live events arrive. */
export function keyed(parent, items, keyOf, signatureOf, render) {
  const wanted = new Set(items.map(keyOf));
  for (const el of [...parent.children]) if (!wanted.has(el.dataset.key)) el.remove();
  const known = new Map([...parent.children].map((el) => [el.dataset.key, el]));
  let next = parent.firstElementChild;
  for (const item of items) {
    const signature = signatureOf(item);
    let el = known.get(keyOf(item));
    if (!el || el.dataset.signature !== signature) {
      const fresh = render(item);
      Object.assign(fresh.dataset, { key: keyOf(item), signature });
      if (el === next) next = fresh;
      el?.replaceWith(fresh);
      el = fresh;
    }
    if (el === next) next = el.nextElementSibling;
    else parent.insertBefore(el, next);
  }
}

/** A panel of the store's page holding a list it reads (`load`) once shown,
 * and again after a resync; `fold(event)` says whether a live event changed
 * what `render` shows. */
export function listPanel(section, load, fold, render) {
  let loaded = false;
  return {
    section,
    show: (s, hidden) => {
      section.hidden = hidden || !s;
      if (section.hidden || loaded) return;
      loaded = true;
      load();
    },
    apply: (event) => {
      if (fold(event)) render();
    },
    reload: () => loaded && load(),
  };
}

let dialogs = 0;

/** A modal dialog around `form`: focus moves into it, Escape closes it, and it
 * is removed once closed (focus returns to what opened it). */
export function modal(heading, form) {
  dialogs += 1;
  const dialog = h("dialog", { class: "card dialog", "aria-labelledby": `dialog-${dialogs}` },
    h("h2", { id: `dialog-${dialogs}`, text: heading }), form);
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/** Whether the person confirms: `text` says what `action` does; Cancel (focused
 * first) or Escape says no. */
export function confirmed(heading, text, action) {
  const cancel = h("button", { type: "submit", class: "btn", value: "no" }, "Cancel");
  const form = h("form", { method: "dialog" }, h("p", { id: `dialog-text-${dialogs + 1}`, text }),
    h("div", { class: "actions" },
      h("button", { type: "submit", class: "btn btn-danger", value: "yes" }, action), cancel));
  const dialog = modal(heading, form);
  dialog.setAttribute("aria-describedby", `dialog-text-${dialogs}`);
  cancel.focus();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"));
  });
}

export function timeAgo(iso) {
  return h("time", { datetime: iso, title: absolute(iso), "data-relative": iso }, relative(iso));
}

// Relative times age while the page is open; a timer re-reads the clock only.
export function refreshTimes(root = document) {
  for (const el of root.querySelectorAll("time[data-relative]")) {
    el.textContent = relative(el.dataset.relative);
  }
}

export function storeLink(url, label = "Visit store") {
  return h("a", { class: "btn btn-primary", href: url, target: "_blank", rel: "noopener" },
    label, icon("external", 14), h("span", { class: "sr-only", text: " (opens in a new tab)" }));
}

export function backLink() {
  return h("a", { class: "back", href: "#/" }, icon("arrow", 16), "All stores");
}

// A labelled form field with its hint and its error, read out with the control.
export function field(id, label, control, hint) {
  const error = h("p", { class: "field-error", id: `${id}-error`, "aria-live": "polite" });
  control.setAttribute("aria-describedby", `${id}-hint ${id}-error`);
  return h("div", { class: "field" }, h("label", { for: id, text: label }), control,
    h("p", { class: "hint", id: `${id}-hint` }, hint), error);
}

export function setError(form, fieldId, message) {
  const input = form.querySelector(`#${fieldId}`);
  form.querySelector(`#${fieldId}-error`).textContent = message || "";
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

/** The API's 422 next to the fields it names (`known`: API field → control id),
 * the first one focused; whether it named any. */
export function showFieldErrors(form, known, err) {
  const fields = (err.errors || []).filter((e) => known[e.field]);
  fields.forEach((e) => setError(form, known[e.field], e.message));
  if (fields.length) form.querySelector(`#${known[fields[0].field]}`).focus();
  return fields.length > 0;
}

const LIVE_TEXT = {
  connecting: "Connecting…",
  live: "Live",
  offline: "Reconnecting…",
  unauthorized: "Signed out",
};

// The top bar's live indicator, for whichever session (tenant or admin) is shown.
export function showLive(status) {
  const el = document.getElementById("live");
  el.dataset.state = status;
  el.querySelector(".live-text").textContent = LIVE_TEXT[status] || status;
}

// Move focus to the new page's heading so keyboard and screen reader users follow.
export function focusHeading(main) {
  const heading = main.querySelector("h1");
  if (heading && document.activeElement !== document.body) heading.focus({ preventScroll: false });
}
