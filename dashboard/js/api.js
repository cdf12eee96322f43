// The gateway's HTTP API with the signed-in token.

const TOKEN_KEY = "urumi.token";

export class ApiError extends Error {
  constructor(status, detail, errors = []) {
    super(detail);
    this.status = status;
    this.errors = errors;
  }
}

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  },
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
};

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

export const stores = {
  me: (token) => api("GET", "/api/v1/me", undefined, token),
  list: (after) => api("GET", after
    ? `/api/v1/stores?after=${encodeURIComponent(after)}` : "/api/v1/stores"),
  get: (id) => api("GET", `/api/v1/stores/${encodeURIComponent(id)}`),
  events: (id) => api("GET", `/api/v1/stores/${encodeURIComponent(id)}/events`),
  create: (spec) => api("POST", "/api/v1/stores", spec),
  update: (id, changes) => api("PATCH", `/api/v1/stores/${encodeURIComponent(id)}`, changes),
  sleep: (id) => api("POST", `/api/v1/stores/${encodeURIComponent(id)}/sleep`),
  wake: (id) => api("POST", `/api/v1/stores/${encodeURIComponent(id)}/wake`),
  remove: (id) => api("DELETE", `/api/v1/stores/${encodeURIComponent(id)}`),
  credentials: (id) => api("GET", `/api/v1/stores/${encodeURIComponent(id)}/credentials`),
  ticket: () => api("POST", "/api/v1/tickets"),
  nextSteps: () => api("GET", "/api/v1/next-steps"),
};
