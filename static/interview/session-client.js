// The /ws/session connection: start handshake, message routing, reconnect with backoff and
// resending the microphone chunks the server has not got yet.

/** Delay before reconnect attempt `attempt` (1-based): 0.5 s doubling to 8 s, ±20 % jitter. */
export function backoffDelay(attempt, { baseMs = 500, maxMs = 8000, random = Math.random } = {}) {
  const raw = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(raw * (0.8 + 0.4 * random()));
}

/**
 * Mic chunks kept until the server confirms it has them. The only confirmation the protocol
 * has is `resume_from_seq` in session_ready, so sent chunks stay here (bounded) in case the
 * connection drops; after a reconnect, everything from resume_from_seq on is sent again.
 */
export class MicOutbox {
  constructor({ maxChunks = 1800 } = {}) {
    this.maxChunks = maxChunks; // 3 minutes of 100 ms chunks
    this.chunks = []; // {seq, audio_b64, timestamp}, ascending seq
    this.unsentFrom = 0; // index into chunks of the first chunk not sent on this connection
    this.dropped = 0;
  }

  add(chunk) {
    this.chunks.push(chunk);
    if (this.chunks.length > this.maxChunks) {
      const excess = this.chunks.length - this.maxChunks;
      this.chunks.splice(0, excess);
      this.unsentFrom = Math.max(0, this.unsentFrom - excess);
      this.dropped += excess;
    }
  }

  /** Chunks waiting to be sent; marks them as sent. */
  takeUnsent() {
    const out = this.chunks.slice(this.unsentFrom);
    this.unsentFrom = this.chunks.length;
    return out;
  }

  /** The server wants `seq >= resumeFrom`: forget older chunks and queue the rest again. */
  resumeFrom(resumeFrom) {
    let i = 0;
    while (i < this.chunks.length && this.chunks[i].seq < resumeFrom) i++;
    this.chunks.splice(0, i);
    this.unsentFrom = 0;
  }

  get size() {
    return this.chunks.length;
  }
}

/** Websocket URL for a path on this page's host (ws: or wss: to match the page). */
export function websocketUrl(path, location) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

/** `url` with `name=value` added to its query string. */
export function withQuery(url, name, value) {
  const sep = url.includes("?") ? "&" : "?";
  return `${url}${sep}${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
}

/**
 * One interview session over a websocket that may drop and come back.
 * Events (EventTarget, detail = the message): "message" for every server message, plus
 * "status" {state, attempt, maxAttempts, delayMs} and "failed" {reason}.
 * `finalCloseCodes` (from the server's page config) are the close codes after which a
 * reconnect cannot help.
 */
export class SessionClient extends EventTarget {
  constructor({ url, sessionId, routingParam, interviewId, token, finalCloseCodes, maxAttempts = 6, WebSocketImpl = WebSocket } = {}) {
    super();
    if (!finalCloseCodes) throw new Error("SessionClient needs the server's final close codes.");
    this.finalCloseCodes = new Set(finalCloseCodes);
    // The session id rides in the URL too, for sticky routing by a load balancer.
    this.url = routingParam ? withQuery(url, routingParam, sessionId) : url;
    this.sessionId = sessionId;
    this.interviewId = interviewId;
    this.token = token;
    this.maxAttempts = maxAttempts;
    this.WebSocketImpl = WebSocketImpl;
    this.outbox = new MicOutbox();
    this.control = []; // non-audio events waiting for a ready connection
    this.ws = null;
    this.ready = false;
    this.closedForGood = false;
    this.attempt = 0;
    this.everReady = false;
    this.timer = null;
  }

  connect() {
    this.closedForGood = false;
    this._open();
  }

  _status(state, extra = {}) {
    this.dispatchEvent(new CustomEvent("status", { detail: { state, ...extra } }));
  }

  _open() {
    this._status(this.attempt ? "reconnecting" : "connecting", { attempt: this.attempt, maxAttempts: this.maxAttempts });
    let ws;
    try {
      ws = new this.WebSocketImpl(this.url);
    } catch (err) {
      this._onClose({ code: 1006, reason: String(err) });
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      ws.send(
        JSON.stringify({ event: "start", session_id: this.sessionId, interview_id: this.interviewId, token: this.token }),
      );
    };
    ws.onmessage = (event) => {
      if (typeof event.data !== "string") return;
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        return;
      }
      const type = msg.event || msg.type;
      if (type === "session_ready") this._onReady(msg);
      this.dispatchEvent(new CustomEvent("message", { detail: { ...msg, event: type } }));
    };
    ws.onclose = (event) => {
      if (this.ws === ws) this._onClose(event);
    };
  }

  _onReady(msg) {
    this.ready = true;
    this.everReady = true;
    this.attempt = 0;
    const resume = Number.isInteger(msg.resume_from_seq) ? msg.resume_from_seq : 0;
    this.outbox.resumeFrom(resume);
    this._status("connected");
    const control = this.control;
    this.control = [];
    for (const payload of control) this._send(payload);
    this._flushMic();
  }

  _onClose(event) {
    this.ready = false;
    this.ws = null;
    if (this.closedForGood) {
      this._status("closed", { code: event.code });
      return;
    }
    if (this.finalCloseCodes.has(event.code)) {
      this.closedForGood = true;
      this._status("closed", { code: event.code });
      this.dispatchEvent(new CustomEvent("failed", { detail: { reason: "refused", code: event.code } }));
      return;
    }
    if (this.attempt >= this.maxAttempts) {
      this.closedForGood = true;
      this._status("closed", { code: event.code });
      this.dispatchEvent(new CustomEvent("failed", { detail: { reason: "unreachable", code: event.code } }));
      return;
    }
    this.attempt++;
    const delayMs = backoffDelay(this.attempt);
    this._status("waiting", { attempt: this.attempt, maxAttempts: this.maxAttempts, delayMs, code: event.code });
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.closedForGood) this._open();
    }, delayMs);
  }

  _send(payload) {
    if (!this.ws || this.ws.readyState !== 1) return false;
    this.ws.send(JSON.stringify(payload));
    return true;
  }

  _flushMic() {
    if (!this.ready) return;
    for (const chunk of this.outbox.takeUnsent()) {
      this._send({ event: "mic_chunk", seq: chunk.seq, audio_b64: chunk.audio_b64, timestamp: chunk.timestamp });
    }
  }

  /** Queue a mic chunk; it goes out now if the session is ready, else after (re)connecting. */
  sendMicChunk(chunk) {
    this.outbox.add(chunk);
    this._flushMic();
  }

  /** Send a control event, or hold it until the session is ready again. */
  sendEvent(payload) {
    if (this.ready && this._send(payload)) return;
    this.control.push(payload);
  }

  /** Ask the server to end the session; resolves on session_ended, close or timeout. */
  end(timeoutMs = 4_000) {
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.removeEventListener("message", onMessage);
        this.removeEventListener("status", onStatus);
        this.close();
        resolve();
      };
      const onMessage = (event) => {
        if (event.detail.event === "session_ended") finish();
      };
      const onStatus = (event) => {
        if (event.detail.state === "closed") finish();
      };
      const timer = setTimeout(finish, timeoutMs);
      this.addEventListener("message", onMessage);
      this.addEventListener("status", onStatus);
      const sent = this.ready && this._send({ event: "end" });
      // Once "end" is out, a dropped connection must not start the session again.
      this.closedForGood = true;
      if (this.timer) clearTimeout(this.timer);
      if (!sent) finish();
    });
  }

  /** Close without reconnecting. */
  close() {
    this.closedForGood = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.ws) {
      try {
        this.ws.close(1000);
      } catch {
        // already closing
      }
    }
  }
}
