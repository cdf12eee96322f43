// Sign in with a tenant token; it lives in sessionStorage, gone with the tab.

import { h } from "./dom.js";
import { ApiError, session, stores } from "./api.js";

export function renderSignIn(main, onSignedIn) {
  const error = h("p", { class: "field-error", id: "token-error", role: "alert" });
  const input = h("input", {
    id: "token", name: "token", type: "password", autocomplete: "current-password",
    required: true, spellcheck: "false", "aria-describedby": "token-hint token-error",
  });
  const button = h("button", { type: "submit", class: "btn btn-primary" }, "Sign in");
  const form = h("form", { class: "card signin", novalidate: true },
    h("h1", { text: "Sign in to Urumi" }),
    h("p", { class: "muted", text: "Launch and watch your online stores." }),
    h("div", { class: "field" },
      h("label", { for: "token", text: "Access token" }),
      input,
      h("p", { class: "hint", id: "token-hint", text: "Your operator gave you this token. `make dev` prints one." }),
      error,
    ),
    button,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const token = input.value.trim();
    error.textContent = "";
    input.removeAttribute("aria-invalid");
    if (!token) return fail("Enter your access token.");
    button.disabled = true;
    button.textContent = "Signing in…";
    try {
      const me = await stores.me(token);
      session.token = token;
      onSignedIn(me);
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
