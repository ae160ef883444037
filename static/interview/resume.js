// Picking an interview up again after a reload: the conversation so far (from the server),
// the consent already given for this interview (kept in this browser), and the devices asked
// for again, so the candidate does not start from a blank page.

import { config } from "./page.js";

const consentKey = () => `interview-consent:${config.interviewId}`;
/** When the server's answer (which measured `elapsedSeconds`) began to arrive, on performance.now(). */
const servedAt = (() => {
  const navigation = performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
  return navigation && navigation.responseStart > 0 ? navigation.responseStart : performance.now();
})();

export function rememberConsent() {
  try {
    localStorage.setItem(consentKey(), "1");
  } catch {
    // storage disabled: the candidate ticks the box again after a reload
  }
}

export function consentRemembered() {
  try {
    return localStorage.getItem(consentKey()) === "1";
  } catch {
    return false;
  }
}

/** This page load continues an interview already under way. */
export function isResuming() {
  return config.status === "in_progress";
}

/**
 * Seconds since the interview started, by the server's count when it made this page plus the
 * time since its answer began to arrive: 0 for a new interview. A reloaded page puts its
 * clock's zero this far back, so every session of the interview (and every recording
 * segment) shares one clock.
 */
export function secondsSinceStart() {
  if (!isResuming() || !config.elapsedSeconds) return 0;
  return config.elapsedSeconds + (performance.now() - servedAt) / 1000;
}
