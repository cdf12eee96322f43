// The store's backups (README "Backups, restore and clone"), newest first, each
// with its trigger, state, size and time; "Back up now"; and from a succeeded
// one, Restore (confirmed: the store's data is replaced) or Clone into a new
// store, its id checked as the launch form checks it. A refusal (a sleeping
// store, one not ready) is the API's 409 sentence. `backup-status` events keep
// it current (panel-state.js).

import { h } from "./dom.js";
import { stores as api } from "./api.js";
import { BACKUP_STATES, absolute, bytes } from "./format.js";
import { applyBackupStatus, backupsNewestFirst, newBackupBook, putBackups, restorable } from "./panel-state.js";
import { putStore } from "./state.js";
import { storeIdProblem } from "./validate.js";
import { confirmed, field, keyed, listPanel, modal, setError, showFieldErrors, timeAgo, toneBadge } from "./widgets.js";

const TRIGGERS = { manual: "On demand", scheduled: "Daily" };

export function backupsPanel(id) {
  const book = newBackupBook();
  const rows = h("tbody", {});
  const table = h("table", { class: "backups" },
    h("caption", { class: "sr-only", text: "Backups, newest first" }),
    h("thead", {}, h("tr", {}, ["Backup", "Trigger", "State", "Size", "Taken", "Actions"]
      .map((c) => h("th", { scope: "col", text: c })))),
    rows);
  const empty = h("p", { class: "muted", text: "Loading backups…" });
  const error = h("p", { class: "form-error", role: "alert" });
  const status = h("p", { class: "hint", role: "status" });
  const now = h("button", { type: "button", class: "btn" }, "Back up now");
  const section = h("section", { class: "card", "aria-labelledby": "backups-heading" },
    h("h2", { id: "backups-heading", text: "Backups" }),
    h("p", { class: "hint", text: "The store's database and files, copied every day and when you ask. A backup can be restored into this store, or cloned into a new one." }),
    h("div", { class: "actions" }, now, error), status, empty, table);

  const render = () => {
    const items = backupsNewestFirst(book);
    empty.textContent = items.length ? "" : "No backups yet.";
    empty.hidden = items.length > 0;
    table.hidden = items.length === 0;
    const signature = (b) => JSON.stringify([b.state, b.message, b.size_bytes, b.trigger, b.created_at]);
    keyed(rows, items, (b) => b.id, signature, row);
  };
  const load = async () => {
    try {
      putBackups(book, (await api.backups(id)).items);
      render();
    } catch (err) {
      error.textContent = err.message;
    }
  };
  const attempt = async (button, action) => {
    button.disabled = true;
    error.textContent = "";
    try {
      await action();
    } catch (err) {
      error.textContent = err.message;
    } finally {
      button.disabled = false;
    }
  };
  now.addEventListener("click", () => attempt(now, async () => {
    const backup = await api.backUp(id);
    putBackups(book, [backup]);
    render();
    status.textContent = `Backing up: ${backup.id}.`;
  }));
  const restore = async (button, b) => {
    const sure = await confirmed(`Restore ${b.id}?`,
      `The store's data (its database and its files) is replaced by this backup's, taken ${absolute(b.created_at)}: orders and changes made since then are lost. The store is provisioning until the restore is done.`,
      "Restore");
    if (!sure) return;
    await attempt(button, async () => {
      putStore(await api.restore(id, b.id));
      status.textContent = `Restoring ${b.id}: the store is provisioning, then ready.`;
    });
  };
  const cloned = (view) => {
    putStore(view);
    status.replaceChildren("Cloning into ",
      h("a", { href: `#/stores/${encodeURIComponent(view.id)}`, text: view.id }), ": a new store, provisioning, then ready.");
  };
  const row = (b) => {
    const actions = [];
    if (restorable(b)) {
      const back = h("button", { type: "button", class: "btn btn-small", "aria-label": `Restore ${b.id}` }, "Restore");
      back.addEventListener("click", () => restore(back, b));
      const copy = h("button", { type: "button", class: "btn btn-small", "aria-label": `Clone ${b.id}` }, "Clone");
      copy.addEventListener("click", () => cloneDialog(id, b, cloned));
      actions.push(back, copy);
    }
    return h("tr", { "data-backup": b.id },
      h("th", { scope: "row" }, h("code", { text: b.id })),
      h("td", { text: TRIGGERS[b.trigger] || b.trigger }),
      h("td", {}, toneBadge(BACKUP_STATES, b.state), b.message ? h("span", { class: "hint backup-message", text: b.message }) : null),
      h("td", { text: b.size_bytes ? bytes(b.size_bytes) : "—" }),
      h("td", {}, timeAgo(b.created_at)),
      h("td", { class: "row-actions" }, actions));
  };

  return listPanel(section, load, (event) => applyBackupStatus(book, event), render);
}

// A new store from the backup: its id as the launch form checks it, the API's
// refusal at the field it concerns, or as its sentence.
function cloneDialog(source, backup, done) {
  const input = h("input", {
    id: "clone-id", name: "id", required: true, maxlength: "40", autocomplete: "off",
    autocapitalize: "none", spellcheck: "false", inputmode: "url",
  });
  const error = h("p", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Clone");
  const cancel = h("button", { type: "button", class: "btn" }, "Cancel");
  const form = h("form", { novalidate: true },
    h("p", { class: "hint", text: `A new store of the same engine, release and plan, starting from ${backup.id}'s data, at its own address.` }),
    field("clone-id", "New store id", input, "Becomes the new store's address. 3–40 characters: a–z, 0–9, '-'."),
    h("div", { class: "actions" }, submit, cancel, error));
  const dialog = modal(`Clone ${backup.id}`, form);
  const check = () => {
    const problem = storeIdProblem(input.value);
    setError(form, "clone-id", problem);
    return problem;
  };
  input.addEventListener("input", check);
  cancel.addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    if (check()) return input.focus();
    submit.disabled = true;
    try {
      const view = await api.clone(source, backup.id, input.value);
      dialog.close();
      done(view);
    } catch (err) {
      // A 409 naming the new id (taken, or being deleted) is the field's.
      if (err.status === 409 && err.message.includes(`'${input.value}'`)) {
        setError(form, "clone-id", err.message);
        input.focus();
      } else if (!showFieldErrors(form, { id: "clone-id" }, err)) {
        error.textContent = err.message;
      }
    } finally {
      submit.disabled = false;
    }
  });
  input.focus();
}
