// The gateway's HTTP API with the signed-in token.

export class ApiError extends Error {
  constructor(status, detail, errors = []) {
    super(detail);
    this.status = status;
    this.errors = errors;
  }
}

// A token in sessionStorage: gone with the tab.
function kept(key) {
  return {
    get token() {
      return sessionStorage.getItem(key) || "";
    },
    set token(value) {
      if (value) sessionStorage.setItem(key, value);
      else sessionStorage.removeItem(key);
    },
  };
}

export const session = kept("urumi.token");
// The platform admin's token, kept apart: signing in as the admin leaves a
// tenant's session as it was.
export const adminSession = kept("urumi.admin");

export async function api(method, path, body, token = session.token) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body ? { "Content-Type": "application/json" } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch {
    throw new ApiError(0, "Cannot reach Urumi. Check your connection and try again.");
  }
  const data = response.status === 204 ? {} : await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = data.detail || response.statusText || "Something went wrong.";
    throw new ApiError(response.status, detail, data.errors || []);
  }
  return data;
}

const store = (id, tail = "") => `/api/v1/stores/${encodeURIComponent(id)}${tail}`;

export const stores = {
  me: (token) => api("GET", "/api/v1/me", undefined, token),
  list: (after) => api("GET", after
    ? `/api/v1/stores?after=${encodeURIComponent(after)}` : "/api/v1/stores"),
  get: (id) => api("GET", store(id)),
  events: (id) => api("GET", store(id, "/events")),
  create: (spec) => api("POST", "/api/v1/stores", spec),
  update: (id, changes) => api("PATCH", store(id), changes),
  rollbackTarget: (id) => api("GET", store(id, "/rollback")),
  rollback: (id) => api("POST", store(id, "/rollback")),
  sleep: (id) => api("POST", store(id, "/sleep")),
  wake: (id) => api("POST", store(id, "/wake")),
  remove: (id) => api("DELETE", store(id)),
  credentials: (id) => api("GET", store(id, "/credentials")),
  domains: (id) => api("GET", store(id, "/domains")),
  addDomain: (id, domain) => api("POST", store(id, "/domains"), { domain }),
  removeDomain: (id, domain) => api("DELETE", store(id, `/domains/${encodeURIComponent(domain)}`)),
  backups: (id) => api("GET", store(id, "/backups")),
  backUp: (id) => api("POST", store(id, "/backups")),
  restore: (id, backup) => api("POST", store(id, "/restore"), { backup }),
  clone: (id, backup, newId) => api("POST", store(id, "/clone"), { backup, id: newId }),
  ticket: () => api("POST", "/api/v1/tickets"),
  nextSteps: () => api("GET", "/api/v1/next-steps"),
};

const FLEETS = "/api/v1/fleet-upgrades";
const admin = (method, path, body) => api(method, path, body, adminSession.token);

export const fleets = {
  check: (token) => api("GET", `${FLEETS}?limit=1`, undefined, token),
  list: () => admin("GET", FLEETS),
  get: (id) => admin("GET", `${FLEETS}/${encodeURIComponent(id)}`),
  start: (spec) => admin("POST", FLEETS, spec),
  control: (id, action) => admin("POST", `${FLEETS}/${encodeURIComponent(id)}/${action}`),
  ticket: () => admin("POST", "/api/v1/admin/tickets"),
};
