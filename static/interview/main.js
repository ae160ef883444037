// Candidate page bootstrap. The live interview client is wired in by interview.js.
const config = JSON.parse(document.getElementById("interview-config").textContent);
const consent = document.getElementById("consent");
const start = document.getElementById("start");
if (consent && start) {
  consent.addEventListener("change", () => { start.disabled = !consent.checked; });
}
window.interviewConfig = config;
