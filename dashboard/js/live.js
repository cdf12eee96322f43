// The notifier websocket (docs/websocket.md): a new ticket per connection,
// `after=<last seq>` on every reconnect, backoff with jitter, and a watchdog that
// treats two silent ping intervals as a dead connection. No polling anywhere.

import { stores } from "./api.js";

const CLOSE_UNAUTHORIZED = 4001;

export function socketUrl(ticket, after) {
  let url = ticket.url;
  if (!/^wss?:\/\//.test(url)) {
    // A path behind an ingress: same host as the page.
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    url = `${scheme}//${location.host}/${url.replace(/^\//, "")}`;
  }
  const query = new URLSearchParams({ ticket: ticket.ticket });
  if (after !== null) query.set("after", String(after));
  return `${url}${url.includes("?") ? "&" : "?"}${query}`;
}

export class Live {
  /** onFrame(frame) for every frame; onState("connecting"|"live"|"offline");
   * ticket() asks for a ticket: the tenant's, or the admin's for the platform's events. */
  constructor(onFrame, onState, ticket = stores.ticket) {
    this.onFrame = onFrame;
    this.onState = onState;
    this.ticket = ticket;
    this.after = null;
    this.attempt = 0;
    this.socket = null;
    this.stopped = true;
    this.timer = null;
    this.watchdog = null;
    this.silenceMs = 50_000;
    this.wake = () => {
      if (!this.socket) this.reconnectSoon(0);
    };
  }

  start() {
    this.stopped = false;
    window.addEventListener("online", this.wake);
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener("online", this.wake);
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
    if (this.socket) this.socket.close(1000, "signed out");
    this.socket = null;
  }

  async connect() {
    if (this.stopped) return;
    this.onState(this.attempt === 0 ? "connecting" : "offline");
    let ticket;
    try {
      ticket = await this.ticket();
    } catch (err) {
      if (err.status === 401) return this.onState("unauthorized");
      return this.reconnectSoon();
    }
    if (this.stopped) return;
    const socket = new WebSocket(socketUrl(ticket, this.after));
    this.socket = socket;
    socket.onmessage = (msg) => this.receive(socket, msg.data);
    socket.onclose = (ev) => this.closed(socket, ev);
  }

  receive(socket, data) {
    if (socket !== this.socket) return;
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    this.feedWatchdog(socket);
    if (frame.type === "hello") {
      this.attempt = 0;
      this.silenceMs = Math.max(2 * frame.ping_interval_s * 1000, 5000) + 2000;
      this.onState("live");
    }
    if ("seq" in frame && frame.type !== "ping") this.after = frame.seq;
    this.onFrame(frame);
  }

  feedWatchdog(socket) {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => socket.close(4000, "silent"), this.silenceMs);
  }

  closed(socket, ev) {
    if (socket !== this.socket) return;
    clearTimeout(this.watchdog);
    this.socket = null;
    if (this.stopped) return;
    // A refused ticket only needs a new one; anything else backs off.
    this.reconnectSoon(ev.code === CLOSE_UNAUTHORIZED && this.attempt === 0 ? 0 : undefined);
  }

  reconnectSoon(delayMs) {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.onState("offline");
    const backoff = Math.min(30_000, 500 * 2 ** this.attempt);
    const wait = delayMs ?? backoff / 2 + Math.random() * (backoff / 2);
    this.attempt += 1;
    this.timer = setTimeout(() => this.connect(), wait);
  }
}
