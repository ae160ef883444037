// Picking an interview up again after a reload: the conversation so far (from the server),
// the consent already given for this interview (kept in this browser), and the devices asked
// for again, so the candidate does not start from a blank page.

import { config } from "./page.js";

const consentKey = () => `interview-consent:${config.interviewId}`;

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
