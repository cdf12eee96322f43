// Small pieces shared by the views.

import { h, icon } from "./dom.js";
import { BUSY, PHASES, absolute, relative } from "./format.js";

export function phaseBadge(phase) {
  const p = PHASES[phase] || { label: phase, hint: "" };
  return h("span", { class: `badge phase-${phase}`, title: p.hint },
    h("span", { class: `pip${BUSY.has(phase) ? " busy" : ""}`, "aria-hidden": "true" }),
    p.label,
  );
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
