// What the candidate reads about where things stand: the state line (question k of n, what
// is happening now, the timer), the connection pill and the reconnect banner.

import { clockNow, logEvent, refresh, state, ui } from "./page.js";
import { formatElapsed, stateLine } from "./progress.js";

export function setConnection(text, kind = "") {
  ui.connection.textContent = text;
  ui.connection.className = `pill ${kind}`.trim();
}

/** Redraw the state line from the page's state; cheap enough to run several times a second. */
export function updateStateLine() {
  const speaking = !!(state.player && state.player.active);
  const line = stateLine({ phase: state.phase, link: state.link, speaking });
  const progress = state.progress ? state.progress.text : "";
  if (ui.stateLine.textContent !== line || ui.questionProgress.textContent !== progress) {
    ui.stateLine.textContent = line;
    ui.questionProgress.textContent = progress;
    logEvent("state_line", { line, progress });
  }
  // The interview clock goes on across a reload (resume.js), so the timer does too.
  const now = clockNow();
  if (state.phase === "live" && now !== null) ui.timer.textContent = formatElapsed(now);
}
refresh.stateLine = updateStateLine;

let ticker = null;
/** Keep the state line and the timer current while the interview runs. */
export function startStateLine() {
  ui.liveStatus.hidden = false;
  if (!ticker) ticker = setInterval(updateStateLine, 250);
  updateStateLine();
}

export function stopStateLine() {
  if (ticker) clearInterval(ticker);
  ticker = null;
  updateStateLine();
}

/** Show a SessionClient "status" event. */
export function showConnectionStatus({ state: s, attempt, maxAttempts, delayMs }) {
  state.link = s;
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
  updateStateLine();
}
