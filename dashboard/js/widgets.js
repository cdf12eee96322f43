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
