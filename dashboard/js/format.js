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

// A store's own domain (services/contracts/domains.py) and a backup
// (services/contracts/backups.py): label and tone of their badges.
export const DOMAIN_STATES = {
  "pending-dns": { label: "Waiting for DNS", tone: "busy" },
  verifying: { label: "Verifying", tone: "busy" },
  "issuing-certificate": { label: "Issuing certificate", tone: "busy" },
  active: { label: "Active", tone: "ok" },
  failed: { label: "Failed", tone: "bad" },
};

export const BACKUP_STATES = {
  pending: { label: "Pending", tone: "busy" },
  running: { label: "Running", tone: "busy" },
  succeeded: { label: "Succeeded", tone: "ok" },
  failed: { label: "Failed", tone: "bad" },
  expired: { label: "Expired", tone: "idle" },
};

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

const SIZE_UNITS = ["B", "KB", "MB", "GB", "TB"];

/** A size in bytes as people read it: 1536 → "1.5 KB" (powers of 1024). */
export function bytes(n) {
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < SIZE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const shown = unit === 0 || value >= 10 ? Math.round(value) : Math.round(value * 10) / 10;
  return `${shown} ${SIZE_UNITS[unit]}`;
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

/** An ISO time as a number to compare, to the microsecond the platform writes
 * (Date.parse keeps milliseconds only; two changes may share one). */
export function instant(iso) {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return -Infinity;
  const fraction = /\.(\d+)/.exec(iso)?.[1] || "";
  return ms * 1000 + Number(fraction.padEnd(6, "0").slice(3, 6));
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
