// Camera/microphone access and the candidate-facing explanation of what went wrong.

/** getUserMedia constraints. `raw` turns the browser's voice processing off (test rigs). */
export function mediaConstraints({ raw = false } = {}) {
  const processing = !raw;
  return {
    audio: {
      channelCount: 1,
      echoCancellation: processing,
      noiseSuppression: processing,
      autoGainControl: processing,
    },
    video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 24 } },
  };
}

const BLOCKED = new Set(["NotAllowedError", "PermissionDeniedError", "SecurityError"]);
const MISSING = new Set(["NotFoundError", "DevicesNotFoundError", "OverconstrainedError"]);
const BUSY = new Set(["NotReadableError", "TrackStartError", "AbortError"]);

/**
 * Turn a getUserMedia failure into a message a candidate can act on. `facts` (optional)
 * narrows it down: which devices exist (hasMic/hasCamera) and which permission is denied
 * (micDenied/cameraDenied); unknown facts are null.
 */
export function describeMediaError(err, facts = {}) {
  const name = (err && err.name) || "";
  const { hasMic = null, hasCamera = null, micDenied = null, cameraDenied = null } = facts;
  const retry = "then press “Check devices” again.";
  if (BLOCKED.has(name)) {
    let what = "your microphone and camera";
    if (micDenied === true && cameraDenied !== true) what = "your microphone";
    else if (cameraDenied === true && micDenied !== true) what = "your camera";
    return {
      kind: "denied",
      message: `Access to ${what} is blocked. The interview needs both. Allow access in your browser's site settings (the icon next to the address bar), ${retry}`,
    };
  }
  if (MISSING.has(name)) {
    let found = "The microphone or camera was not found.";
    if (hasMic === false && hasCamera === false) found = "No microphone and no camera were found.";
    else if (hasMic === false) found = "No microphone was found.";
    else if (hasCamera === false) found = "No camera was found.";
    return { kind: "missing", message: `${found} The interview needs both: connect them, ${retry}` };
  }
  if (BUSY.has(name)) {
    return {
      kind: "busy",
      message: `Your microphone or camera could not be started; another application may be using it. Close it, ${retry}`,
    };
  }
  if (name === "TypeError" || name === "NotSupportedError") {
    return {
      kind: "unsupported",
      message: "This browser cannot use a microphone and camera on this page. Use a current Chrome, Edge or Firefox over https.",
    };
  }
  return { kind: "other", message: `The microphone and camera could not be started (${name || "unknown error"}). ${retry}` };
}

/** Best-effort facts for describeMediaError; every lookup may be unsupported. */
export async function deviceFacts(nav = globalThis.navigator) {
  const facts = { hasMic: null, hasCamera: null, micDenied: null, cameraDenied: null };
  try {
    const devices = await nav.mediaDevices.enumerateDevices();
    facts.hasMic = devices.some((d) => d.kind === "audioinput");
    facts.hasCamera = devices.some((d) => d.kind === "videoinput");
  } catch {
    // enumerateDevices unavailable
  }
  for (const [name, key] of [
    ["microphone", "micDenied"],
    ["camera", "cameraDenied"],
  ]) {
    try {
      const status = await nav.permissions.query({ name });
      facts[key] = status.state === "denied";
    } catch {
      // permission name not queryable in this browser
    }
  }
  return facts;
}

/** Ask for camera + microphone; throws an Error whose `.userMessage` explains the failure. */
export async function openDevices({ raw = false, nav = globalThis.navigator } = {}) {
  if (!nav.mediaDevices || !nav.mediaDevices.getUserMedia) {
    const err = new Error("mediaDevices unavailable");
    err.userMessage = describeMediaError({ name: "NotSupportedError" }).message;
    throw err;
  }
  try {
    const stream = await nav.mediaDevices.getUserMedia(mediaConstraints({ raw }));
    const missing = [];
    if (!stream.getAudioTracks().length) missing.push("microphone");
    if (!stream.getVideoTracks().length) missing.push("camera");
    if (missing.length) {
      stream.getTracks().forEach((t) => t.stop());
      const err = new Error("missing tracks");
      err.name = "NotFoundError";
      throw err;
    }
    return stream;
  } catch (err) {
    err.userMessage = describeMediaError(err, await deviceFacts(nav)).message;
    throw err;
  }
}
