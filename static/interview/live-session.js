// The live interview: the session connection, the interviewer's audio, the microphone
// stream and the end of the interview.
//
// The interview clock. One AudioContext drives mic capture, AI playback and the recorder's
// start mark. Its zero is the context time at the moment the candidate presses Start
// (`telemetry.sessionZero`); every time sent to the server is `ctx.currentTime - zero`, in
// seconds. A page reloaded mid-interview sets its zero as far back as the interview has run
// (the server's count), so the clock goes on across page loads. Mic chunk times come from
// the worklet's sample count, AI chunk times from the start time the player scheduled, and
// the recording mark from currentTime read right at recorder.start(): all three therefore
// sit on the same timeline.

import { AudioPlayer } from "./audio-player.js";
import { releaseDevices } from "./device-check.js";
import {
  config,
  logEvent,
  setDeviceStatus,
  setPhase,
  showComplete,
  showError,
  state,
  telemetry,
  ui,
  updateStartButton,
} from "./page.js";
import { QuestionProgress } from "./progress.js";
import { discardRecording, startRecording, stopRecording } from "./recording.js";
import { reportNothingRecorded, uploadRecording } from "./recording-upload.js";
import { rememberConsent, secondsSinceStart } from "./resume.js";
import { SessionClient, websocketUrl } from "./session-client.js";
import { setConnection, showConnectionStatus, startStateLine, stopStateLine } from "./status-line.js";
import { TranscriptView } from "./transcript-view.js";

const CLOSE = config.closeCodes;
/** Interviewer audio after this much silence starts a new reply (the candidate's turn lies between). */
const NEW_REPLY_GAP_S = 1.0;
let transcript = null;

/** Show the conversation view; after a reload it starts with the lines the server kept. */
export function showConversation(restored = []) {
  ui.transcriptCard.hidden = false;
  if (!transcript) transcript = new TranscriptView(ui.transcript, { missingWords: config.missingWords });
  for (const line of restored) transcript.render({ ...line, final: true });
  if (!state.progress) {
    const answered = restored.filter((line) => line.role === "candidate").length;
    state.progress = new QuestionProgress(config.questionsCount, { answered });
  }
}

function newSessionId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Every captured mic chunk passes here; it goes to the server only while live. */
export function onMicChunk({ timestamp, samples, audioB64 }) {
  if (!state.forwardMic || !state.client) return;
  const seq = state.micSeq++;
  state.client.sendMicChunk({ seq, audio_b64: audioB64, timestamp });
  telemetry.micSent.push({ seq, timestamp, samples });
}

export async function startInterview() {
  if (state.phase !== "ready" || !ui.consent.checked) return;
  setPhase("live");
  ui.start.disabled = true;
  if (state.ctx.state !== "running") {
    // The clock must run before its zero is taken, or mic and video would start apart.
    await state.ctx.resume();
  }
  ui.check.disabled = true;
  ui.consent.disabled = true;
  ui.end.disabled = false;
  showError("");
  rememberConsent();
  showConversation();
  setDeviceStatus("The interview is running. Speak naturally; the level bar shows your microphone.", "ok");
  ui.deviceHeading.textContent = "Your interview";

  const ctx = state.ctx;
  state.sessionId = newSessionId();
  state.micSeq = 0;
  // Zero of the interview clock: the context time right now (see the header comment), or,
  // after a reload, as far back as the interview has run: one clock across page loads.
  state.zero = ctx.currentTime - secondsSinceStart();
  telemetry.sessionZero = state.zero;
  for (const key of ["aiScheduled", "micSent", "interruptions"]) telemetry[key].length = 0;
  logEvent("session_start", { sessionId: state.sessionId });

  const client = new SessionClient({
    url: websocketUrl(config.urls.session, window.location),
    sessionId: state.sessionId,
    routingParam: config.urls.sessionRoutingParam,
    interviewId: config.interviewId,
    token: config.token,
    finalCloseCodes: CLOSE.final,
  });
  state.client = client;
  client.addEventListener("message", (e) => onServerMessage(e.detail));
  client.addEventListener("status", (e) => onConnectionStatus(e.detail));
  client.addEventListener("failed", (e) => onConnectionFailed(e.detail));

  state.player = new AudioPlayer(ctx, {
    sampleRate: config.audio.sampleRate,
    clockZero: () => state.zero,
    onScheduled: (seq, start, duration) => {
      telemetry.aiScheduled.push({ seq, start, duration });
      client.sendEvent({ event: "ai_chunk_played", seq, timestamp: start });
    },
  });

  state.forwardMic = true;
  state.capture.start();
  startRecording(client);
  startStateLine();
  client.connect();
}

function onServerMessage(msg) {
  switch (msg.event) {
    case "session_ready":
      logEvent("session_ready", { resumeFrom: msg.resume_from_seq });
      if (msg.sample_rate && msg.sample_rate !== config.audio.sampleRate) {
        showError(`The server expects ${msg.sample_rate} Hz audio; this page sends ${config.audio.sampleRate} Hz.`);
      }
      break;
    case "tts_chunk":
      if (state.phase !== "live" && state.phase !== "ending") return;
      try {
        const player = state.player;
        if (!player.active && state.ctx.currentTime - player.queueEnd >= NEW_REPLY_GAP_S) state.progress.onReply();
        player.playChunk(msg.seq, msg.audio_b64);
      } catch (err) {
        logEvent("tts_chunk_bad", { seq: msg.seq, message: err.message });
      }
      break;
    case "playback_stop":
      interruptPlayback("server");
      break;
    case "transcript":
      transcript.render(msg);
      break;
    case config.events.caption:
      // Words as they are spoken or recognised; the line's `transcript` message replaces them.
      if (!telemetry.captions[msg.role]) telemetry.captions[msg.role] = 0;
      telemetry.captions[msg.role] += 1;
      transcript.caption(msg);
      break;
    case "error":
      logEvent("server_error", { code: msg.code, message: msg.message });
      showError(msg.message || `The server reported a problem (${msg.code}).`);
      break;
    case "session_ended":
      logEvent("session_ended");
      state.progress.onFinished();
      finish("ended");
      break;
    default:
      logEvent("unknown_message", { event: msg.event });
  }
}

function interruptPlayback(reason) {
  if (!state.player) return;
  const cut = state.player.stop();
  logEvent("playback_stop", { reason, cut });
  if (!cut) return;
  if (reason === "server") state.progress.onInterrupted(); // a barge-in, not an answer
  const played = Math.round(cut.played_ms * 10) / 10;
  telemetry.interruptions.push({ seq: cut.seq, played_ms: played });
  state.client.sendEvent({ event: "ai_playback_interrupted", seq: cut.seq, played_ms: played });
}

/**
 * The page is going away mid-interview (reload, closed tab): say where the interviewer's voice
 * stood, so the server cuts the reply exactly there (its own estimate of this page's clock trails
 * by the chunks in flight) and asks it again when the page comes back.
 */
export function reportLeaving() {
  if (state.phase !== "live" || !state.player || !state.client) return;
  const cut = state.player.stop();
  logEvent("playback_stop", { reason: "leaving", cut });
  if (!cut) return;
  const played = Math.round(cut.played_ms * 10) / 10;
  const report = { event: "ai_playback_interrupted", seq: cut.seq, played_ms: played, leaving: true };
  state.client.sendEvent(report);
}

function onConnectionStatus(detail) {
  logEvent("connection", { state: detail.state, attempt: detail.attempt, code: detail.code });
  showConnectionStatus(detail);
}

function onConnectionFailed({ reason, code }) {
  logEvent("connection_failed", { reason, code });
  ui.reconnect.hidden = true;
  let message;
  if (code === CLOSE.unauthorized) message = "This interview link is not valid any more. Please use the link from your invitation.";
  else if (code === CLOSE.finished) message = "This interview has already been completed. Thank you!";
  else if (code === CLOSE.superseded) message = "This interview was continued in another browser tab or window.";
  else if (reason === "unreachable") message = "The connection to the interview server could not be restored.";
  else message = `The server closed the interview (code ${code}).`;
  if (state.phase !== "live") return;
  const everReady = state.client && state.client.everReady;
  if (everReady) {
    showError(`${message} What was recorded so far is now being uploaded.`);
    finish("lost");
  } else {
    showError(message);
    abortBeforeReady(code === CLOSE.finished || code === CLOSE.unauthorized ? code : null);
  }
}

/** The session never got going: drop the recording and (unless refused) allow a new try. */
async function abortBeforeReady(refusedAs) {
  const refused = refusedAs !== null;
  state.forwardMic = false;
  if (state.capture) await state.capture.stop();
  if (state.player) state.player.stop();
  await discardRecording();
  state.client = null;
  ui.end.disabled = true;
  stopStateLine();
  if (refused) {
    await releaseDevices();
    setPhase("done");
    if (refusedAs === CLOSE.finished) showComplete();
    ui.check.disabled = true;
    setConnection("Not connected");
  } else {
    setPhase("ready");
    ui.check.disabled = false;
    ui.consent.disabled = false;
    setConnection("Not connected", "bad");
  }
  updateStartButton();
}

let finishing = null;
/** End the live interview once, whoever asks: the candidate, the server, or a lost device. */
export function finish(reason) {
  if (!finishing) finishing = doFinish(reason);
  return finishing;
}

async function doFinish(reason) {
  if (state.phase !== "live") return;
  setPhase("ending");
  logEvent("finish", { reason });
  if (ui.endDialog.open) ui.endDialog.close();
  ui.end.disabled = true;
  ui.reconnect.hidden = true;
  if (reason === "user") {
    interruptPlayback("end");
    await state.capture.stop(); // the last partial chunk still goes out before "end"
    state.forwardMic = false;
    setConnection("Ending…");
    await state.client.end(config.endWaitMs);
  } else {
    state.forwardMic = false;
    await state.capture.stop();
    // Let the interviewer finish its last words; the recording keeps running meanwhile.
    if (reason === "ended") await state.player.drained(30000);
    else state.player.stop();
    state.client.close();
  }
  setConnection("Interview finished", "ok");
  stopStateLine();
  if (reason === "user" || reason === "ended") showError("");
  const recording = await stopRecording(config.interviewId);
  await releaseDevices();
  ui.meter.value = 0;
  setDeviceStatus("The interview has ended. Your microphone and camera are switched off.");
  if (!recording) {
    reportNothingRecorded();
    return;
  }
  state.recording = recording;
  await uploadRecording();
}

/** A device went away mid-interview: end it and save what was recorded. */
export function onLiveTrackEnded(what) {
  showError(`Your ${what} stopped working. The interview is ending and what was recorded is being saved.`);
  finish("device");
}
