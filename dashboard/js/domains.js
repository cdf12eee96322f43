// The store's own domains (README "A store on its own domain"): each with its
// state and why, and the DNS records to set at the tenant's provider exactly as
// the API gives them (copyable); a form adding one, and Remove, confirmed.
// `domain-status` events keep it current (panel-state.js).

import { h } from "./dom.js";
import { stores as api } from "./api.js";
import { DOMAIN_STATES } from "./format.js";
import {
  applyDomainStatus, domainsInOrder, dropDomain, newDomainBook, putDomain, putDomainList,
} from "./panel-state.js";
import { putStore } from "./state.js";
import { confirmed, copyButton, field, keyed, listPanel, setError, showFieldErrors, toneBadge } from "./widgets.js";

const FIELDS = { domain: "new-domain" };

export function domainsPanel(id) {
  const book = newDomainBook();
  const list = h("ul", { class: "domains", role: "list", id: "domain-list" });
  const empty = h("p", { class: "muted", text: "Loading domains…" });
  const error = h("p", { class: "form-error", role: "alert" });
  const input = h("input", {
    id: "new-domain", name: "domain", autocomplete: "off", spellcheck: "false",
    autocapitalize: "none", inputmode: "url", placeholder: "shop.example.com",
  });
  const add = h("button", { type: "submit", class: "btn" }, "Add domain");
  const form = h("form", { class: "add-domain", novalidate: true, "aria-label": "Add a domain" },
    field("new-domain", "Domain", input,
      "A name of yours, such as www.example.com (a zone's apex cannot have the CNAME record)."),
    h("div", { class: "actions" }, add, error));
  const section = h("section", { class: "card", "aria-labelledby": "domains-heading" },
    h("h2", { id: "domains-heading", text: "Domains" }),
    h("p", { class: "hint", text: "Serve the store on a domain of your own too. Once its DNS records are set, the store answers on it within a minute." }),
    empty, list, form);

  const render = () => {
    const items = domainsInOrder(book);
    empty.textContent = items.length ? "" : "No domains of your own yet: the store answers on its platform address.";
    empty.hidden = items.length > 0;
    keyed(list, items, (d) => d.domain, (d) => JSON.stringify([d.state, d.reason, d.records]), row);
  };
  const load = async () => {
    const asked = book.heard;
    try {
      putDomainList(book, (await api.domains(id)).items, asked);
      render();
    } catch (err) {
      error.textContent = err.message;
    }
  };
  const remove = async (name) => {
    const sure = await confirmed(`Remove ${name}?`,
      `The store stops answering on ${name}; where it answers there now, that takes its next generation, and its address returns to its platform host. You can add the domain again later.`,
      "Remove domain");
    if (!sure) return;
    error.textContent = "";
    try {
      putStore(await api.removeDomain(id, name));
      dropDomain(book, name);
      render();
      input.focus();
    } catch (err) {
      error.textContent = err.message;
    }
  };
  const row = (d) => h("li", { class: "domain", "data-domain": d.domain },
    h("div", { class: "domain-head" },
      h("h3", { text: d.domain }), toneBadge(DOMAIN_STATES, d.state),
      h("button", { type: "button", class: "btn btn-small", "aria-label": `Remove ${d.domain}`, onclick: () => remove(d.domain) }, "Remove")),
    h("p", { class: "reason hint", text: d.reason }),
    records(d));

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    setError(form, FIELDS.domain, null);
    add.disabled = true;
    try {
      putDomain(book, await api.addDomain(id, input.value.trim()));
      input.value = "";
      render();
    } catch (err) {
      if (!showFieldErrors(form, FIELDS, err)) error.textContent = err.message;
    } finally {
      add.disabled = false;
    }
  });

  return listPanel(section, load, (event) => applyDomainStatus(book, event), render);
}

// The records as the API gives them, each part copyable on its own.
function records(d) {
  const what = (r, part) => `${r.type} record ${part} for ${d.domain}`;
  return h("table", { class: "records" },
    h("caption", { class: "sr-only", text: `DNS records to set for ${d.domain}` }),
    h("thead", {}, h("tr", {}, ["Type", "Name", "Value"].map((c) => h("th", { scope: "col", text: c })))),
    h("tbody", {}, d.records.map((r) => h("tr", {},
      h("th", { scope: "row", text: r.type }),
      h("td", {}, h("code", { text: r.name }), copyButton(r.name, what(r, "name"))),
      h("td", {}, h("code", { text: r.value }), copyButton(r.value, what(r, "value")))))));
}
