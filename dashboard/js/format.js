// Words and times people read.

export const PHASES = {
  pending: { label: "Pending", hint: "Waiting to start" },
  provisioning: { label: "Provisioning", hint: "Being set up" },
  ready: { label: "Ready", hint: "Open for business" },
  degraded: { label: "Degraded", hint: "Running, but something is wrong" },
  failed: { label: "Failed", hint: "Could not be set up" },
  deleting: { label: "Deleting", hint: "Being removed" },
  deleted: { label: "Deleted", hint: "Removed" },
};

export const BUSY = new Set(["pending", "provisioning", "deleting"]);

export const ENGINES = { woocommerce: "WooCommerce", medusa: "Medusa" };
export const PLANS = { small: "Small", medium: "Medium", large: "Large" };

// What a person can do about each failure reason (watcher reasons, see DESIGN §4).
const NEXT_STEPS = {
  ImagePullBackOff: "The store's software image could not be downloaded. Delete this store and create it again; if it keeps happening, contact support.",
  ErrImagePull: "The store's software image could not be downloaded. Delete this store and create it again; if it keeps happening, contact support.",
  CrashLoopBackOff: "Part of the store keeps crashing. The Kubernetes events below say why. Delete the store and create it again; if it repeats, contact support with the store id.",
  JobFailed: "Setting up the store (installing the shop and its sample products) failed. Delete the store and create it again.",
  CreateContainerConfigError: "The store is misconfigured on our side. Contact support with the store id.",
  CreateContainerError: "The store could not be started on our side. Contact support with the store id.",
  Unschedulable: "The platform has no room for this plan right now. Delete the store and try a smaller plan, or try again later.",
  DeadlineExceeded: "Setting up took longer than it should. Delete the store and create it again.",
};
const DEFAULT_NEXT = "Delete this store and create it again. If it fails again, contact support with the store id and the reason above.";

export function nextStep(reason) {
  if (reason && reason.startsWith("Step ")) {
    return "Urumi could not create the store's resources. Delete it and try again; if it repeats, contact support with the store id.";
  }
  return NEXT_STEPS[reason] || DEFAULT_NEXT;
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
