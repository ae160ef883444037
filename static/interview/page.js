// What every part of the candidate page shares: the server's config, the page's elements,
// the session state, the client log the tests read, and the few helpers that change them.

export const config = JSON.parse(document.getElementById("interview-config").textContent);
const params = new URLSearchParams(window.location.search);
/** Test rigs turn the browser's voice processing off so the fake microphone arrives intact. */
export const RAW_AUDIO = params.get("raw_audio") === "1";
/** Test hook: run the context at another rate to exercise the worklet's own resampler. */
export const FORCE_RATE = Number(params.get("context_rate")) || null;

const $ = (id) => document.getElementById(id);
export const ui = {
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
  liveStatus: $("live-status"),
  questionProgress: $("question-progress"),
  stateLine: $("state-line"),
  timer: $("timer"),
  endDialog: $("end-dialog"),
  endCancel: $("end-cancel"),
  endConfirm: $("end-confirm"),
  completeCard: $("complete-card"),
};

export const telemetry = {
  recordingStarted: null,
  recordingSegment: null, // this page load's recording segment, once the server's listing is in
  sessionZero: null,
  aiScheduled: [],
  micSent: [],
  interruptions: [],
  mimeType: null,
  captions: {}, // caption deltas received, per role
  events: [],
};
window.interviewTelemetry = telemetry;
window.interviewConfig = config;

export const state = {
  phase: "idle", // idle → ready → live → ending → uploading → done
  stream: null,
  ctx: null,
  capture: null,
  player: null,
  recorder: null,
  uploader: null, // the recording's progressive upload (recording-parts.js)
  client: null,
  sessionId: null,
  zero: null,
  micSeq: 0,
  forwardMic: false,
  link: "closed", // the connection state SessionClient last reported
  progress: null, // QuestionProgress, from the first Start on
  recording: null, // {blob, filename} kept for an upload retry
};

/** Seconds on the interview clock (see live-session.js), or null before Start. */
export function clockNow() {
  return state.ctx && state.zero !== null ? state.ctx.currentTime - state.zero : null;
}

export function logEvent(type, data = {}) {
  telemetry.events.push({ type, t: clockNow(), wall: Date.now(), ...data });
}

/** Called whenever something the state line shows may have changed (set by status-line.js). */
export const refresh = { stateLine: () => {} };

export function setPhase(phase) {
  state.phase = phase;
  document.body.dataset.phase = phase;
  document.body.classList.toggle("finished", ["uploading", "done", "upload_failed"].includes(phase));
  logEvent("phase", { phase });
  refresh.stateLine();
}

export function setDeviceStatus(text, kind = "") {
  ui.deviceStatus.textContent = text;
  ui.deviceStatus.className = kind;
}

export function showError(text) {
  ui.error.textContent = text;
  ui.error.hidden = !text;
}

/** The interview is over and nothing is left to do: say what happens next. */
export function showComplete() {
  ui.completeCard.hidden = false;
}

export function updateStartButton() {
  ui.start.disabled = !(state.phase === "ready" && ui.consent.checked);
}
