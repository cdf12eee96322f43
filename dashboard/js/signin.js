// Sign in with a token; it lives in sessionStorage, gone with the tab. A tenant
// signs in with its access token, the platform admin (#/admin) with the admin token.

import { h } from "./dom.js";
import { ApiError, adminSession, fleets, session, stores } from "./api.js";

const TENANT = {
  heading: "Sign in to Urumi",
  lead: "Launch and watch your online stores.",
  label: "Access token",
  hint: "Your operator gave you this token. `make dev` prints one.",
  check: stores.me,
  kept: session,
  other: { href: "#/admin", text: "Platform admin? Sign in with the admin token" },
};

export const ADMIN = {
  heading: "Sign in as the platform admin",
  lead: "Upgrade every store of an engine, in waves.",
  label: "Admin token",
  hint: "The platform's URUMI_ADMIN_TOKEN; `make dev` keeps it in .urumi/dev-secrets.json.",
  check: fleets.check,
  kept: adminSession,
  other: { href: "#/", text: "Sign in as a tenant instead" },
};

/** onSignedIn(what who.check answered) once the token is accepted and kept. */
export function renderSignIn(main, onSignedIn, who = TENANT) {
  const error = h("p", { class: "field-error", id: "token-error", role: "alert" });
  const input = h("input", {
    id: "token", name: "token", type: "password", autocomplete: "current-password",
    required: true, spellcheck: "false", "aria-describedby": "token-hint token-error",
  });
  const button = h("button", { type: "submit", class: "btn btn-primary" }, "Sign in");
  const form = h("form", { class: "card signin", novalidate: true },
    h("h1", { text: who.heading }),
    h("p", { class: "muted", text: who.lead }),
    h("div", { class: "field" },
      h("label", { for: "token", text: who.label }),
      input,
      h("p", { class: "hint", id: "token-hint", text: who.hint }),
      error,
    ),
    button,
    h("p", { class: "hint" }, h("a", { href: who.other.href, text: who.other.text })),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const token = input.value.trim();
    error.textContent = "";
    input.removeAttribute("aria-invalid");
    if (!token) return fail(`Enter your ${who.label.toLowerCase()}.`);
    button.disabled = true;
    button.textContent = "Signing in…";
    try {
      const answer = await who.check(token);
      who.kept.token = token;
      onSignedIn(answer);
    } catch (err) {
      const unknown = err instanceof ApiError && (err.status === 401 || err.status === 403);
      fail(unknown ? "That token was not accepted. Check it and try again." : err.message);
    } finally {
      button.disabled = false;
      button.textContent = "Sign in";
    }
  });
  function fail(message) {
    error.textContent = message;
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
  main.replaceChildren(h("div", { class: "center" }, form));
  input.focus();
}
