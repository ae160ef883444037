// Explorer state <-> URL query string. Pure functions, no DOM: the URL is the source of truth,
// so reload, back/forward and shared links all restore the same view.

export const LIST_KEYS = ["project", "annotator", "tags", "status"];
export const TEXT_KEYS = ["search", "rating_min", "rating_max", "created_from", "created_to"];
export const DEFAULTS = Object.freeze({
  tags_mode: "all",
  sort_by: "created_at",
  sort_dir: "desc",
  page: 1,
  page_size: 50,
});

export function emptyState() {
  const state = { ...DEFAULTS };
  for (const key of LIST_KEYS) state[key] = [];
  for (const key of TEXT_KEYS) state[key] = "";
  return state;
}

function splitValues(params, key) {
  return params
    .getAll(key)
    .flatMap((value) => value.split(","))
    .map((value) => value.trim())
    .filter(Boolean);
}

export function stateFromSearch(search) {
  const params = new URLSearchParams(search);
  const state = emptyState();
  for (const key of LIST_KEYS) state[key] = splitValues(params, key);
  for (const key of TEXT_KEYS) state[key] = params.get(key) ?? "";
  state.tags_mode = params.get("tags_mode") === "any" ? "any" : "all";
  state.sort_by = params.get("sort_by") || DEFAULTS.sort_by;
  state.sort_dir = params.get("sort_dir") === "asc" ? "asc" : params.get("sort_dir") === "desc" ? "desc" : DEFAULTS.sort_dir;
  state.page = positiveInt(params.get("page"), DEFAULTS.page);
  state.page_size = positiveInt(params.get("page_size"), DEFAULTS.page_size);
  return state;
}

function positiveInt(text, fallback) {
  const value = Number.parseInt(text ?? "", 10);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

// Filters and sort only: what the export receives.
export function filterParams(state) {
  const params = new URLSearchParams();
  for (const key of LIST_KEYS) if (state[key].length) params.set(key, state[key].join(","));
  if (state.tags.length && state.tags_mode !== DEFAULTS.tags_mode) params.set("tags_mode", state.tags_mode);
  for (const key of TEXT_KEYS) if (String(state[key]).trim() !== "") params.set(key, String(state[key]).trim());
  if (state.sort_by !== DEFAULTS.sort_by) params.set("sort_by", state.sort_by);
  if (state.sort_dir !== DEFAULTS.sort_dir) params.set("sort_dir", state.sort_dir);
  return params;
}

// Filters, sort and paging: what the list API and the page URL receive.
export function pageParams(state) {
  const params = filterParams(state);
  if (state.page !== DEFAULTS.page) params.set("page", String(state.page));
  if (state.page_size !== DEFAULTS.page_size) params.set("page_size", String(state.page_size));
  return params;
}

export function exportParams(state, format) {
  const params = filterParams(state);
  params.set("format", format);
  return params;
}

// Clicking the active column flips direction; a new column starts ascending.
export function toggleSort(state, column) {
  const sort_dir = state.sort_by === column && state.sort_dir === "asc" ? "desc" : "asc";
  return { ...state, sort_by: column, sort_dir, page: 1 };
}
