// The connection pill and the reconnect banner: what the candidate reads about the link.

import { state, ui } from "./page.js";

export function setConnection(text, kind = "") {
  ui.connection.textContent = text;
  ui.connection.className = `pill ${kind}`.trim();
}

/** Show a SessionClient "status" event. */
export function showConnectionStatus({ state: s, attempt, maxAttempts, delayMs }) {
  if (s === "connecting") setConnection("Connecting…");
  else if (s === "connected") {
    setConnection("Connected", "ok");
    ui.reconnect.hidden = true;
  } else if (s === "waiting") {
    setConnection("Reconnecting…", "bad");
    ui.reconnect.hidden = false;
    const lead = state.client && state.client.everReady ? "Connection lost." : "Could not reach the interview server.";
    ui.reconnect.textContent = `${lead} Trying again in ${Math.ceil(delayMs / 1000)} s (attempt ${attempt} of ${maxAttempts})… Keep talking: your answer is kept and sent when the connection is back.`;
  } else if (s === "reconnecting") {
    setConnection("Reconnecting…", "bad");
    ui.reconnect.hidden = false;
    ui.reconnect.textContent = `Reconnecting (attempt ${attempt} of ${maxAttempts})…`;
  } else if (s === "closed" && state.phase === "live") {
    setConnection("Disconnected", "bad");
  }
}
