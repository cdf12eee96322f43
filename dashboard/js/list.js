// The stores page: launch a store, and every store with its live phase.

import { h, icon } from "./dom.js";
import { ApiError, stores as api } from "./api.js";
import { ENGINES, PLANS } from "./format.js";
import { engineReleases, versions } from "./release.js";
import { putStore, state } from "./state.js";
import { storeIdProblem, suggestId } from "./validate.js";
import { field, phaseBadge, setError, showFieldErrors, timeAgo } from "./widgets.js";

export function renderList(main) {
  const list = h("div", { id: "store-list" });
  const count = h("p", { class: "muted", id: "store-count" });
  main.replaceChildren(
    h("div", { class: "page-head" },
      h("div", {}, h("h1", { tabindex: "-1", text: "Your stores" }), count)),
    createForm(),
    h("section", { "aria-labelledby": "stores-heading" },
      h("h2", { id: "stores-heading", class: "sr-only", text: "Stores" }), list),
  );
  const update = () => {
    fillList(list);
    const me = state.me;
    const n = [...state.stores.values()].filter((s) => s.phase !== "deleted").length;
    count.textContent = me ? `${n} of ${me.max_stores} stores in use` : "";
  };
  update();
  return (change) => {
    if (change.kind === "list" || change.kind === "store") update();
  };
}

function fillList(list) {
  if (!state.loaded) return list.replaceChildren(h("p", { class: "muted", text: "Loading stores…" }));
  const items = [...state.stores.values()]
    .filter((s) => s.phase !== "deleted")
    .sort((a, b) => (b.created_at || "").localeCompare(a.created_at || ""));
  if (items.length === 0) {
    return list.replaceChildren(h("div", { class: "empty card" },
      icon("cube", 28), h("p", { text: "No stores yet. Launch your first one above." })));
  }
  list.replaceChildren(h("ul", { class: "stores", role: "list" }, items.map(row)));
}

function row(s) {
  const ready = s.phase === "ready" && s.url;
  return h("li", { class: "store-row card", "data-store": s.id },
    h("div", { class: "store-main" },
      h("a", { class: "store-name", href: `#/stores/${encodeURIComponent(s.id)}` }, s.display_name || s.id),
      h("span", { class: "store-meta" }, `${s.id} · ${ENGINES[s.engine] || s.engine} · ${s.plan}`),
    ),
    h("div", { class: "store-phase" }, phaseBadge(s.phase)),
    h("div", { class: "store-url" }, ready
      ? h("a", { href: s.url, target: "_blank", rel: "noopener" }, s.url.replace(/^https?:\/\//, ""))
      : h("span", { class: "muted", text: s.phase === "failed" ? "Not available" : "Address appears when ready" })),
    h("div", { class: "store-created muted" }, "Created ", timeAgo(s.created_at)),
  );
}

const ENGINE_HINTS = {
  woocommerce: "WooCommerce on WordPress: a shop with a storefront theme.",
  medusa: "Medusa: a headless commerce API with an admin dashboard.",
};

// The chosen engine's releases, its default preselected. The default's option
// has the value "", which the API reads as "the engine's default": a form left
// alone, or one whose catalog failed to load, never pins a release.
function releasePicker(engine) {
  const select = h("select", { id: "release", name: "release" });
  const hint = h("span", {});
  let shown = [];
  const describe = () => {
    const picked = shown.find((r) => r.value === select.value);
    hint.textContent = picked ? `${versions(picked.release)}.` : "";
  };
  const load = async () => {
    const asked = engine.value;
    select.disabled = true;
    select.replaceChildren(h("option", { value: "", text: "Engine default" }));
    hint.textContent = "Loading releases…";
    let entry = null;
    try {
      entry = await engineReleases(asked);
    } catch {
      // Left null: the form still launches, at the default.
    }
    if (engine.value !== asked) return; // another engine was chosen meanwhile; its load fills in
    if (!entry) {
      hint.textContent = "Releases could not be loaded; the store gets its engine's default.";
      return;
    }
    shown = entry.releases.map((release) => {
      const marks = [release.name === entry.default && "default", release.name === entry.latest && "latest"];
      const named = marks.filter(Boolean).join(", ");
      return {
        release,
        value: release.name === entry.default ? "" : release.name,
        text: named ? `${release.name} (${named})` : release.name,
      };
    });
    if (shown.length) select.replaceChildren(...shown.map((o) => h("option", { value: o.value, text: o.text })));
    select.value = "";
    select.disabled = false;
    describe();
  };
  engine.addEventListener("change", load);
  select.addEventListener("change", describe);
  load();
  return { select, hint };
}

function createForm() {
  const name = h("input", { id: "display_name", name: "display_name", maxlength: "80", autocomplete: "off" });
  const id = h("input", {
    id: "store_id", name: "id", required: true, maxlength: "40", autocomplete: "off",
    autocapitalize: "none", spellcheck: "false", inputmode: "url", pattern: "[a-z0-9]([a-z0-9-]*[a-z0-9])?",
  });
  const engine = h("select", { id: "engine", name: "engine" },
    Object.entries(ENGINES).map(([v, l]) => h("option", { value: v }, l)));
  const plan = h("select", { id: "plan", name: "plan" },
    Object.entries(PLANS).map(([v, l]) => h("option", { value: v }, l)));
  const formError = h("p", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Launch store");
  const addressHint = h("span", {}, "Becomes the store's address. 3–40 characters: a–z, 0–9, '-'.");
  const engineHint = h("span", {}, ENGINE_HINTS[engine.value]);
  engine.addEventListener("change", () => { engineHint.textContent = ENGINE_HINTS[engine.value]; });
  const release = releasePicker(engine);
  const form = h("form", { class: "card create", novalidate: true, "aria-labelledby": "create-heading" },
    h("h2", { id: "create-heading", text: "Launch a store" }),
    h("div", { class: "grid" },
      field("display_name", "Store name", name, "Shown to you in Urumi; customers see the name you set in the store."),
      field("store_id", "Store id", id, addressHint),
      field("engine", "Engine", engine, engineHint),
      field("release", "Release", release.select, release.hint),
      field("plan", "Plan", plan, "Small: up to ~1k visits a day. Medium: ~10k. Large: busy stores."),
    ),
    h("div", { class: "actions" }, submit, formError),
  );
  let idTouched = false;
  const check = (show) => {
    const problem = storeIdProblem(id.value);
    setError(form, "store_id", show ? problem : null);
    return problem;
  };
  name.addEventListener("input", () => {
    if (!idTouched) id.value = suggestId(name.value);
    if (id.value) check(true);
  });
  id.addEventListener("input", () => { idTouched = id.value !== ""; check(true); });
  id.addEventListener("blur", () => check(id.value !== ""));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    formError.textContent = "";
    if (check(true)) return id.focus();
    submit.disabled = true;
    submit.textContent = "Launching…";
    try {
      const view = await api.create({
        id: id.value, engine: engine.value, release: release.select.value, plan: plan.value,
        display_name: name.value.trim(),
      });
      putStore(view);
      location.hash = `#/stores/${encodeURIComponent(view.id)}`;
    } catch (err) {
      showApiError(form, formError, err);
    } finally {
      submit.disabled = false;
      submit.textContent = "Launch store";
    }
  });
  return form;
}

function showApiError(form, formError, err) {
  if (err instanceof ApiError && err.status === 409) {
    setError(form, "store_id", "That id is taken. Choose another.");
    return form.querySelector("#store_id").focus();
  }
  const known = {
    id: "store_id", display_name: "display_name", engine: "engine", release: "release", plan: "plan",
  };
  if (!showFieldErrors(form, known, err)) formError.textContent = err.message;
}
