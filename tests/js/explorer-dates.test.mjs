import assert from "node:assert/strict";
import { test } from "node:test";

import { isoDay, presetRange } from "../../static/admin_explorer/dates.js";

const days = (n) => ({ dataset: { days: String(n) } });
const quarter = { dataset: { quarter: "this" } };

test("last N days ends today and counts today as the first of the N", () => {
  const today = new Date(2026, 10, 26, 15, 30); // 26 Nov 2026, mid-afternoon
  assert.deepEqual(presetRange(days(7), today), { created_from: "2026-11-20", created_to: "2026-11-26" });
  assert.deepEqual(presetRange(days(30), today), { created_from: "2026-10-28", created_to: "2026-11-26" });
  assert.deepEqual(presetRange(days(90), today), { created_from: "2026-08-29", created_to: "2026-11-26" });
});

test("presets cross month and year ends", () => {
  assert.deepEqual(presetRange(days(7), new Date(2026, 0, 3)), { created_from: "2025-12-28", created_to: "2026-01-03" });
  assert.deepEqual(presetRange(days(30), new Date(2024, 2, 1)), { created_from: "2024-02-01", created_to: "2024-03-01" }); // 2024 is a leap year
  assert.deepEqual(presetRange(days(30), new Date(2025, 2, 1)), { created_from: "2025-01-31", created_to: "2025-03-01" });
});

test("this quarter runs from its first day to today", () => {
  assert.deepEqual(presetRange(quarter, new Date(2026, 10, 26)), { created_from: "2026-10-01", created_to: "2026-11-26" });
  assert.deepEqual(presetRange(quarter, new Date(2026, 2, 31)), { created_from: "2026-01-01", created_to: "2026-03-31" });
  assert.deepEqual(presetRange(quarter, new Date(2026, 3, 1)), { created_from: "2026-04-01", created_to: "2026-04-01" });
});

test("days are written in local time, zero-padded", () => {
  assert.equal(isoDay(new Date(2025, 0, 5, 23, 59)), "2025-01-05");
});
