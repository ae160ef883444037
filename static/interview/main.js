// Candidate page wiring: device check → live session → recording upload → export status.
//
// The interview clock. One AudioContext drives mic capture, AI playback and the recorder's
// start mark. Its zero is the context time at the moment the candidate presses Start
// (`telemetry.sessionZero`); every time sent to the server is `ctx.currentTime - zero`, in
// seconds. Mic chunk times come from the worklet's sample count, AI chunk times from the
// start time the player scheduled, and the recording mark from currentTime read right at
// recorder.start(): all three therefore sit on the same timeline.
import { AudioCapture, createInterviewContext } from "./audio-capture.js";
import { AudioPlayer } from "./audio-player.js";
import { openDevices } from "./devices.js";
import { SessionClient, websocketUrl } from "./session-client.js";
import { TranscriptLog } from "./transcript.js";
import { UploadError, exportStatusText, pollExport, uploadVideo } from "./uploader.js";
import { VideoRecorder, extensionFor } from "./video-recorder.js";

const config = JSON.parse(document.getElementById("interview-config").textContent);
const params = new URLSearchParams(window.location.search);
const RAW_AUDIO = params.get("raw_audio") === "1";
// Test hook: run the context at another rate to exercise the worklet's own resampler.
const FORCE_RATE = Number(params.get("context_rate")) || null;
const FINISHED = ["completed", "exported", "failed"];

const $ = (id) => document.getElementById(id);
const ui = {
  preview: $("camera-preview"),
  meter: $("mic-level"),
  deviceStatus: $("device-status"),
  check: $("check-devices"),
  consent: $("consent"),
  start: $("start"),
  end: $("end"),
  connection: $("connection-status"),
  reconnect: $("reconnect-banner"),
  error: $("error-banner"),
  transcriptCard: $("transcript-card"),
  transcript: $("transcript"),
  uploadCard: $("upload-card"),
  progress: $("upload-progress"),
  uploadStatus: $("upload-status"),
  retry: $("upload-retry"),
  save: $("upload-save"),
  deviceHeading: $("device-heading"),
  recordingIndicator: $("recording-indicator"),
};

const telemetry = {
  recordingStarted: null,
  sessionZero: null,
  aiScheduled: [],
  micSent: [],
  interruptions: [],
  mimeType: null,
  events: [],
};
window.interviewTelemetry = telemetry;
window.interviewConfig = config;

const state = {
  phase: "idle", // idle → ready → live → ending → uploading → done
  stream: null,
  ctx: null,
  capture: null,
  player: null,
  recorder: null,
  client: null,
  sessionId: null,
  zero: null,
  micSeq: 0,
  forwardMic: false,
  transcript: new TranscriptLog(),
  transcriptNodes: new Map(),
  recording: null, // {blob, filename} kept for an upload retry
};

function clockNow() {
  return state.ctx && state.zero !== null ? state.ctx.currentTime - state.zero : null;
}

function logEvent(type, data = {}) {
  telemetry.events.push({ type, t: clockNow(), wall: Date.now(), ...data });
}

function setPhase(phase) {
  state.phase = phase;
  document.body.dataset.phase = phase;
  document.body.classList.toggle("finished", ["uploading", "done", "upload_failed"].includes(phase));
  logEvent("phase", { phase });
}

function setDeviceStatus(text, kind = "") {
  ui.deviceStatus.textContent = text;
  ui.deviceStatus.className = kind;
}

function showError(text) {
  ui.error.textContent = text;
  ui.error.hidden = !text;
}

function setConnection(text, kind = "") {
  ui.connection.textContent = text;
  ui.connection.className = `pill ${kind}`.trim();
}

function updateStartButton() {
  ui.start.disabled = !(state.phase === "ready" && ui.consent.checked);
}

function newSessionId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// --- Device check ---------------------------------------------------------------------

async function releaseDevices() {
  if (state.capture) state.capture.disconnect();
  if (state.ctx) await state.ctx.close().catch(() => {});
  if (state.stream) state.stream.getTracks().forEach((t) => t.stop());
  state.capture = state.ctx = state.stream = null;
  ui.preview.srcObject = null;
}

async function checkDevices() {
  ui.check.disabled = true;
  showError("");
  setDeviceStatus("Asking for access to your microphone and camera…");
  await releaseDevices();
  try {
    const stream = await openDevices({ raw: RAW_AUDIO });
    state.stream = stream;
    ui.preview.srcObject = stream;
    const { ctx, source } = createInterviewContext(stream, { sampleRate: config.sampleRate, forceRate: FORCE_RATE });
    state.ctx = ctx;
    // The permission prompt may outlast the click's user activation: then the context stays
    // suspended until the next click (Start resumes it at the latest).
    ctx.resume().catch(() => {});
    document.addEventListener("pointerdown", () => ctx.state === "suspended" && ctx.resume(), { once: true });
    state.capture = new AudioCapture(ctx, source, {
      targetRate: config.sampleRate,
      chunkMs: config.chunkMs,
      clockZero: () => state.zero,
      onLevel: (value) => {
        ui.meter.value = value;
      },
      onChunk: onMicChunk,
    });
    await state.capture.init();
    for (const track of stream.getTracks()) {
      track.addEventListener("ended", () => onTrackEnded(track));
    }
    logEvent("devices_ready", { contextRate: ctx.sampleRate, rawAudio: RAW_AUDIO });
    setDeviceStatus("Microphone and camera are working. Say something: the level bar should move.", "ok");
    ui.check.textContent = "Check again";
    setPhase("ready");
  } catch (err) {
    await releaseDevices();
    const message = err.userMessage || `The microphone could not be prepared: ${err.message}`;
    setDeviceStatus(message, "bad");
    logEvent("devices_failed", { name: err.name, message });
    setPhase("idle");
  } finally {
    ui.check.disabled = state.phase !== "idle" && state.phase !== "ready";
    updateStartButton();
  }
}

function onTrackEnded(track) {
  const what = track.kind === "audio" ? "microphone" : "camera";
  logEvent("track_ended", { kind: track.kind });
  if (state.phase === "live") {
    showError(`Your ${what} stopped working. The interview is ending and what was recorded is being saved.`);
    finish("device");
  } else if (state.phase === "ready") {
    setDeviceStatus(`Your ${what} was disconnected. Reconnect it, then press “Check again”.`, "bad");
    setPhase("idle");
    updateStartButton();
  }
}

// --- Live session -----------------------------------------------------------------------

function onMicChunk({ timestamp, samples, audioB64 }) {
  if (!state.forwardMic || !state.client) return;
  const seq = state.micSeq++;
  state.client.sendMicChunk({ seq, audio_b64: audioB64, timestamp });
  telemetry.micSent.push({ seq, timestamp, samples });
}

async function startInterview() {
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
  ui.transcriptCard.hidden = false;
  setDeviceStatus("The interview is running. Speak naturally; the level bar shows your microphone.", "ok");
  ui.deviceHeading.textContent = "Your interview";

  const ctx = state.ctx;
  state.sessionId = newSessionId();
  state.micSeq = 0;
  // Zero of the interview clock: the context time right now (see the header comment).
  state.zero = ctx.currentTime;
  telemetry.sessionZero = state.zero;
  telemetry.recordingStarted = null;
  telemetry.mimeType = null;
  for (const key of ["aiScheduled", "micSent", "interruptions"]) telemetry[key].length = 0;
  logEvent("session_start", { sessionId: state.sessionId });

  const client = new SessionClient({
    url: websocketUrl(config.wsPath, window.location),
    sessionId: state.sessionId,
    routingParam: config.wsRoutingParam,
    interviewId: config.interviewId,
    token: config.token,
  });
  state.client = client;
  client.addEventListener("message", (e) => onServerMessage(e.detail));
  client.addEventListener("status", (e) => onConnectionStatus(e.detail));
  client.addEventListener("failed", (e) => onConnectionFailed(e.detail));

  state.player = new AudioPlayer(ctx, {
    sampleRate: config.sampleRate,
    clockZero: () => state.zero,
    onScheduled: (seq, start, duration) => {
      telemetry.aiScheduled.push({ seq, start, duration });
      client.sendEvent({ event: "ai_chunk_played", seq, timestamp: start });
    },
  });

  state.forwardMic = true;
  state.capture.start();

  try {
    state.recorder = new VideoRecorder(state.stream, { audioContext: ctx, clockZero: () => state.zero });
    const startedAt = state.recorder.start();
    telemetry.recordingStarted = startedAt;
    telemetry.mimeType = state.recorder.mimeType;
    logEvent("recording_started", { timestamp: startedAt, mimeType: state.recorder.mimeType });
    state.client.sendEvent({ event: "recording_started", timestamp: startedAt });
    ui.recordingIndicator.hidden = false;
  } catch (err) {
    state.recorder = null;
    showError(`Video recording could not start (${err.message}). The interview continues with audio only.`);
    logEvent("recording_failed", { message: err.message });
  }

  state.client.connect();
}

function onServerMessage(msg) {
  switch (msg.event) {
    case "session_ready":
      logEvent("session_ready", { resumeFrom: msg.resume_from_seq });
      if (msg.sample_rate && msg.sample_rate !== config.sampleRate) {
        showError(`The server expects ${msg.sample_rate} Hz audio; this page sends ${config.sampleRate} Hz.`);
      }
      break;
    case "tts_chunk":
      if (state.phase !== "live" && state.phase !== "ending") return;
      try {
        state.player.playChunk(msg.seq, msg.audio_b64);
      } catch (err) {
        logEvent("tts_chunk_bad", { seq: msg.seq, message: err.message });
      }
      break;
    case "playback_stop":
      interruptPlayback("server");
      break;
    case "transcript":
      renderTranscript(msg);
      break;
    case "error":
      logEvent("server_error", { code: msg.code, message: msg.message });
      showError(msg.message || `The server reported a problem (${msg.code}).`);
      break;
    case "session_ended":
      logEvent("session_ended");
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
  const played = Math.round(cut.played_ms * 10) / 10;
  telemetry.interruptions.push({ seq: cut.seq, played_ms: played });
  state.client.sendEvent({ event: "ai_playback_interrupted", seq: cut.seq, played_ms: played });
}

function onConnectionStatus({ state: s, attempt, maxAttempts, delayMs, code }) {
  logEvent("connection", { state: s, attempt, code });
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

function onConnectionFailed({ reason, code }) {
  logEvent("connection_failed", { reason, code });
  ui.reconnect.hidden = true;
  let message;
  if (code === 4401 || code === 4403) message = "This interview link is not valid any more. Please use the link from your invitation.";
  else if (code === 4409) message = "This interview has already been completed. Thank you!";
  else if (code === 4000) message = "This interview was continued in another browser tab or window.";
  else if (reason === "unreachable") message = "The connection to the interview server could not be restored.";
  else message = `The server closed the interview (code ${code}).`;
  if (state.phase !== "live") return;
  const everReady = state.client && state.client.everReady;
  if (everReady) {
    showError(`${message} What was recorded so far is now being uploaded.`);
    finish("lost");
  } else {
    showError(message);
    abortBeforeReady(code === 4409 || code === 4401 || code === 4403);
  }
}

/** The session never got going: drop the recording and (unless refused) allow a new try. */
async function abortBeforeReady(refused) {
  state.forwardMic = false;
  if (state.capture) await state.capture.stop();
  if (state.player) state.player.stop();
  if (state.recorder) await state.recorder.stop();
  state.recorder = null;
  ui.recordingIndicator.hidden = true;
  state.client = null;
  ui.end.disabled = true;
  if (refused) {
    await releaseDevices();
    setPhase("done");
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
function finish(reason) {
  if (!finishing) finishing = doFinish(reason);
  return finishing;
}

async function doFinish(reason) {
  if (state.phase !== "live") return;
  setPhase("ending");
  logEvent("finish", { reason });
  ui.end.disabled = true;
  ui.reconnect.hidden = true;
  if (reason === "user") {
    interruptPlayback("end");
    await state.capture.stop(); // the last partial chunk still goes out before "end"
    state.forwardMic = false;
    setConnection("Ending…");
    await state.client.end();
  } else {
    state.forwardMic = false;
    await state.capture.stop();
    // Let the interviewer finish its last words; the recording keeps running meanwhile.
    if (reason === "ended") await state.player.drained(30000);
    else state.player.stop();
    state.client.close();
  }
  setConnection("Interview finished", "ok");
  if (reason === "user" || reason === "ended") showError("");
  const blob = state.recorder ? await state.recorder.stop() : null;
  ui.recordingIndicator.hidden = true;
  await releaseDevices();
  ui.meter.value = 0;
  setDeviceStatus("The interview has ended. Your microphone and camera are switched off.");
  if (!blob || !blob.size) {
    setPhase("done");
    showUpload();
    setUploadStatus("No video was recorded, so there is nothing to upload. Your answers were still received.", "bad");
    return;
  }
  const filename = `interview-${config.interviewId}.${extensionFor(state.recorder.mimeType)}`;
  state.recording = { blob, filename };
  await upload();
}

// --- Upload ---------------------------------------------------------------------------

function showUpload() {
  ui.uploadCard.hidden = false;
  ui.uploadCard.scrollIntoView({ behavior: "smooth", block: "nearest" });
}

function setUploadStatus(text, kind = "") {
  ui.uploadStatus.textContent = text;
  ui.uploadStatus.className = kind;
}

function formatMb(bytes) {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

async function upload() {
  setPhase("uploading");
  showUpload();
  ui.retry.hidden = true;
  ui.save.hidden = true;
  ui.progress.hidden = false;
  ui.progress.value = 0;
  const { blob, filename } = state.recording;
  setUploadStatus(`Uploading your recording (${formatMb(blob.size)})… Please keep this page open.`);
  try {
    const answer = await uploadVideo({
      url: config.uploadUrl,
      blob,
      filename,
      fields: { interview_id: config.interviewId, token: config.token, session_id: state.sessionId },
      onProgress: (fraction, loaded, total) => {
        ui.progress.value = Math.round(fraction * 100);
        setUploadStatus(`Uploading your recording: ${Math.round(fraction * 100)} % (${formatMb(loaded)} of ${formatMb(total)})… Please keep this page open.`);
      },
    });
    ui.progress.value = 100;
    logEvent("upload_done", { bytes: blob.size });
    if (!answer.status_url) {
      setPhase("done");
      setUploadStatus("Your recording was uploaded. Thank you! You can close this page now.", "ok");
      return;
    }
    setUploadStatus("Upload complete. Preparing your interview recording…");
    ui.progress.removeAttribute("value"); // indeterminate while the server works
    const final = await pollExport(answer.status_url, config.token, {
      onStatus: (body) => {
        logEvent("export_status", { status: body.status });
        if (body.status !== "done" && body.status !== "failed") {
          setUploadStatus(`Upload complete. Preparing your interview recording: ${exportStatusText(body.status)}…`);
        }
      },
    });
    setPhase("done");
    ui.progress.value = 100;
    if (final.status === "done") {
      setUploadStatus("Done! Your interview has been recorded and saved. Thank you — you can close this page now.", "ok");
    } else if (final.status === "failed") {
      const why = (final.error && (final.error.message || final.error)) || final.message || "";
      setUploadStatus(`Your recording was received, but preparing it failed${why ? `: ${why}` : "."} The hiring team can still see your interview.`, "bad");
    } else {
      setUploadStatus("Your recording was received and is still being prepared. You can close this page now.", "ok");
    }
  } catch (err) {
    const status = err instanceof UploadError ? err.status : 0;
    logEvent("upload_failed", { status, message: err.message });
    setPhase("upload_failed");
    ui.progress.hidden = true;
    const retryable = status === 0 || status >= 500 || status === 408 || status === 429;
    setUploadStatus(
      `The upload failed: ${err.message} ${retryable ? "Try again, or save" : "Please save"} the recording to this computer and send it to the hiring team.`,
      "bad",
    );
    ui.retry.hidden = !retryable;
    // Nothing is lost: the candidate can always keep a local copy.
    if (!ui.save.href) ui.save.href = URL.createObjectURL(blob);
    ui.save.download = filename;
    ui.save.hidden = false;
  }
}

// --- Transcript ---------------------------------------------------------------------------

const ROLE_LABEL = { interviewer: "Interviewer", candidate: "You" };

function renderTranscript(msg) {
  const applied = state.transcript.apply(msg);
  if (!applied) return;
  const { entry, created } = applied;
  let li = state.transcriptNodes.get(entry.id);
  if (created || !li) {
    li = document.createElement("li");
    const role = document.createElement("span");
    role.className = "role";
    role.textContent = ROLE_LABEL[entry.role];
    const text = document.createElement("span");
    text.className = "text";
    li.append(role, text);
    ui.transcript.append(li);
    state.transcriptNodes.set(entry.id, li);
  }
  li.className = `${entry.role}${entry.final ? "" : " partial"}`;
  li.querySelector(".text").textContent = entry.text;
  if (entry.final) state.transcriptNodes.delete(entry.id);
  ui.transcript.scrollTop = ui.transcript.scrollHeight;
}

// --- Page setup -----------------------------------------------------------------------------

function init() {
  document.body.dataset.phase = "idle";
  if (FINISHED.includes(config.status)) {
    setPhase("done");
    return;
  }
  ui.consent.addEventListener("change", updateStartButton);
  ui.check.addEventListener("click", checkDevices);
  ui.start.addEventListener("click", startInterview);
  ui.end.addEventListener("click", () => finish("user"));
  ui.retry.addEventListener("click", () => {
    if (state.recording) upload();
  });
  window.addEventListener("beforeunload", (event) => {
    if (["live", "ending", "uploading"].includes(state.phase)) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  updateStartButton();
}

init();
