// Explorer state <-> URL query string. Pure functions over the server's defaults: the URL is
// the source of truth, so reload, back/forward, shared links and saved views all restore the
// same view.
import { CONFIG } from "./config.js";

export const LIST_KEYS = ["project", "annotator", "tags", "status"];
export const TEXT_KEYS = ["search", "rating_min", "rating_max", "created_from", "created_to"];
export const DEFAULTS = Object.freeze({ tags_mode: "all", page: 1, ...CONFIG.defaults });
const COLUMNS_PARAM = CONFIG.columns_param;
const COLUMN_KEYS = CONFIG.columns.map((column) => column.key);
export const DEFAULT_COLUMNS = Object.freeze(CONFIG.columns.filter((column) => column.shown).map((column) => column.key));

export function emptyState() {
  const state = { ...DEFAULTS, columns: [...DEFAULT_COLUMNS] };
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
  if (params.has(COLUMNS_PARAM)) {
    const chosen = new Set(splitValues(params, COLUMNS_PARAM));
    state.columns = COLUMN_KEYS.filter((key) => chosen.has(key));
  }
  return state;
}

function positiveInt(text, fallback) {
  const value = Number.parseInt(text ?? "", 10);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

// Filters only: what the menus' counts receive.
export function onlyFilterParams(state) {
  const params = new URLSearchParams();
  for (const key of LIST_KEYS) if (state[key].length) params.set(key, state[key].join(","));
  if (state.tags.length && state.tags_mode !== DEFAULTS.tags_mode) params.set("tags_mode", state.tags_mode);
  for (const key of TEXT_KEYS) if (String(state[key]).trim() !== "") params.set(key, String(state[key]).trim());
  return params;
}

// Filters and sort: what the export receives.
export function filterParams(state) {
  const params = onlyFilterParams(state);
  if (state.sort_by !== DEFAULTS.sort_by) params.set("sort_by", state.sort_by);
  if (state.sort_dir !== DEFAULTS.sort_dir) params.set("sort_dir", state.sort_dir);
  return params;
}

// Filters, sort and paging: what the list API receives.
export function pageParams(state) {
  const params = filterParams(state);
  if (state.page !== DEFAULTS.page) params.set("page", String(state.page));
  if (state.page_size !== DEFAULTS.page_size) params.set("page_size", String(state.page_size));
  return params;
}

// Everything, the shown columns included: the page URL and what a saved view keeps.
export function viewParams(state) {
  const params = pageParams(state);
  if (state.columns.join(",") !== DEFAULT_COLUMNS.join(",")) params.set(COLUMNS_PARAM, state.columns.join(","));
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
