// Words and times people read.

export const PHASES = {
  pending: { label: "Pending", hint: "Waiting to start" },
  provisioning: { label: "Provisioning", hint: "Being set up" },
  ready: { label: "Ready", hint: "Open for business" },
  degraded: { label: "Degraded", hint: "Running, but something is wrong" },
  asleep: { label: "Asleep", hint: "Asleep: no pod runs, its data is kept" },
  failed: { label: "Failed", hint: "Could not be set up" },
  deleting: { label: "Deleting", hint: "Being removed" },
  deleted: { label: "Deleted", hint: "Removed" },
};

export const BUSY = new Set(["pending", "provisioning", "deleting"]);

export const ENGINES = { woocommerce: "WooCommerce", medusa: "Medusa" };
export const PLANS = { small: "Small", medium: "Medium", large: "Large" };

// What a person can do about each failure reason: the platform's one table
// (services/contracts/next_steps.py), which the gateway serves and app.js sets at start.
let nextSteps = { reasons: {}, default: "" };

export function useNextSteps(table) {
  nextSteps = table;
}

export function nextStep(reason) {
  return Object.hasOwn(nextSteps.reasons, reason) ? nextSteps.reasons[reason] : nextSteps.default;
}

const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const UNITS = [
  ["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400],
  ["hour", 3600], ["minute", 60], ["second", 1],
];

export function relative(iso, now = Date.now()) {
  const seconds = (Date.parse(iso) - now) / 1000;
  if (!Number.isFinite(seconds)) return "";
  if (Math.abs(seconds) < 45) return "just now";
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return rtf.format(Math.round(seconds / size), unit);
  }
  return "just now";
}

export function absolute(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleString();
}

export function clock(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

// Step names from the provisioner, said plainly.
const STEPS = {
  provision: "Provision",
  render: "Prepare resources",
  secret: "Generate credentials",
  apply: "Create resource",
  prune: "Remove old resources",
  delete: "Delete store",
};

export function stepLabel(step) {
  return STEPS[step] || step.replace(/[-_]/g, " ").replace(/^./, (c) => c.toUpperCase());
}

const CONDITIONS = {
  NamespaceReady: "Space reserved",
  DatabaseReady: "Database running",
  WebReady: "Web server running",
  StoreConfigured: "Store set up",
  Routable: "Address live",
};

export function conditionLabel(type) {
  return CONDITIONS[type] || type;
}
