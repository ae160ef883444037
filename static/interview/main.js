// Candidate page wiring: device check → live session → recording upload → export status.
// Each step lives in its own module; this one only connects the buttons to them.

import { checkDevices } from "./device-check.js";
import {
  finish,
  onLiveTrackEnded,
  onMicChunk,
  reportLeaving,
  showConversation,
  startInterview,
} from "./live-session.js";
import { config, setPhase, showComplete, state, ui, updateStartButton } from "./page.js";
import { forgetKeptRecording, keepLastPiece } from "./recording.js";
import { uploadRecording } from "./recording-upload.js";
import { consentRemembered, isResuming } from "./resume.js";

const checkOurDevices = () => checkDevices({ onMicChunk, onLiveTrackEnded });

/**
 * A reload mid-interview: show the conversation so far and offer to continue. With the
 * consent already given here, the devices are asked for again at once, and the interview
 * continues by itself where the browser lets sound play without a click.
 */
async function resume() {
  showConversation(config.transcript);
  ui.deviceHeading.textContent = "Welcome back";
  ui.start.textContent = "Continue the interview";
  if (!consentRemembered()) return;
  ui.consent.checked = true;
  await checkOurDevices();
  if (state.phase !== "ready") return;
  // Without a click the browser may keep the audio clock stopped: then the candidate continues.
  await Promise.race([state.ctx.resume().catch(() => {}), new Promise((r) => setTimeout(r, 500))]);
  if (state.ctx.state === "running") {
    startInterview();
  } else {
    ui.deviceStatus.textContent = "Your microphone and camera are working. Press “Continue the interview” to pick up where you left off.";
    ui.start.focus();
  }
}

function init() {
  document.body.dataset.phase = "idle";
  if (config.finishedStatuses.includes(config.status)) {
    setPhase("done");
    showComplete();
    forgetKeptRecording(); // no video of the candidate stays in this browser for nothing
    return;
  }
  ui.consent.addEventListener("change", updateStartButton);
  ui.check.addEventListener("click", checkOurDevices);
  ui.start.addEventListener("click", startInterview);
  // Ending is for good, so it asks first and says what it means.
  ui.end.addEventListener("click", () => {
    if (state.phase === "live") ui.endDialog.showModal();
  });
  ui.endCancel.addEventListener("click", () => ui.endDialog.close());
  ui.endConfirm.addEventListener("click", () => {
    ui.endDialog.close();
    finish("user");
  });
  ui.retry.addEventListener("click", () => {
    if (state.recording) uploadRecording();
  });
  window.addEventListener("beforeunload", (event) => {
    if (["live", "ending", "uploading"].includes(state.phase)) {
      keepLastPiece(); // a reload goes on with the interview: keep every recorded second
      event.preventDefault();
      event.returnValue = "";
    }
  });
  window.addEventListener("pagehide", () => {
    reportLeaving(); // where the interviewer's voice stopped, for an exact cut on the server
    keepLastPiece();
  });
  updateStartButton();
  if (isResuming()) resume();
}

init();
