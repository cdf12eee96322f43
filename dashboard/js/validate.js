// Store id rules, mirrored from services/contracts/ids.py so people see a
// problem while typing; the API checks again and its word is final.

export const STORE_ID_MIN = 3;
export const STORE_ID_MAX = 40;
const PATTERN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const RESERVED = new Set([
  "admin", "api", "app", "auth", "cdn", "dashboard", "default", "dev", "docs",
  "ftp", "help", "login", "mail", "nats", "ns", "platform", "root", "smtp",
  "static", "status", "support", "system", "test", "urumi", "www",
]);
const RESERVED_PREFIXES = ["kube-", "openshift-", "urumi-"];

/** Why `value` is not a valid store id, or null when it is. */
export function storeIdProblem(value) {
  if (value.length === 0) return "Choose an id for the store's address.";
  if (value.length < STORE_ID_MIN || value.length > STORE_ID_MAX) {
    return `Use ${STORE_ID_MIN}–${STORE_ID_MAX} characters (now ${value.length}).`;
  }
  if (/[A-Z]/.test(value)) return "Use lowercase letters only.";
  if (!PATTERN.test(value)) {
    return "Use only a–z, 0–9 and '-', starting and ending with a letter or digit.";
  }
  if (RESERVED.has(value) || RESERVED_PREFIXES.some((p) => value.startsWith(p))) {
    return `“${value}” is reserved; choose another id.`;
  }
  return null;
}

/** A suggested id from a display name: "Acme Shop!" → "acme-shop". */
export function suggestId(name) {
  return name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, STORE_ID_MAX)
    .replace(/-+$/, "");
}
