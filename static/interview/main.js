// Candidate page wiring: device check → live session → recording upload → export status.
// Each step lives in its own module; this one only connects the buttons to them.

import { checkDevices } from "./device-check.js";
import { finish, onLiveTrackEnded, onMicChunk, startInterview } from "./live-session.js";
import { config, setPhase, state, ui, updateStartButton } from "./page.js";
import { uploadRecording } from "./recording-upload.js";

function init() {
  document.body.dataset.phase = "idle";
  if (config.finishedStatuses.includes(config.status)) {
    setPhase("done");
    return;
  }
  ui.consent.addEventListener("change", updateStartButton);
  ui.check.addEventListener("click", () => checkDevices({ onMicChunk, onLiveTrackEnded }));
  ui.start.addEventListener("click", startInterview);
  ui.end.addEventListener("click", () => finish("user"));
  ui.retry.addEventListener("click", () => {
    if (state.recording) uploadRecording();
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
