// A filter menu (projects, annotators, tags): a button that names the choice and a panel with
// type-to-find and one checkbox per value. Values come from the list's facets at once; their
// task counts are asked for when the menu opens, and again while it stays open.
import { bindPopover } from "./popover.js";

export class FilterMenu {
  constructor(element, { facet, countsUrl, countParams, onChange }) {
    this.facet = facet;
    this.countsUrl = countsUrl;
    this.countParams = countParams;
    this.onChange = onChange;
    this.selected = new Set();
    this.facetItems = []; // [{value, label}] from the list's facets
    this.countedItems = null; // the same with counts, most tasks first, once loaded
    this.counts = null; // Map value -> count
    this.labels = new Map(); // every label seen, so a chosen value stays named
    this.inflight = null;
    const $ = (selector) => element.querySelector(selector);
    this.button = $(".menu-button");
    this.summary = $(".menu-summary");
    this.anyText = this.summary.textContent;
    this.panel = $(".menu-panel");
    this.find = $(".menu-find");
    this.options = $(".menu-options");
    this.empty = $(".menu-empty");
    this.popover = bindPopover(this.button, this.panel, {
      onOpen: () => this.loadCounts(),
      onClose: () => {
        this.find.value = "";
        this.render();
      },
      focusOnOpen: () => this.find,
    });
    this.find.addEventListener("input", () => this.render());
    this.find.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      const first = this.options.querySelector("input");
      if (first) first.click();
    });
    this.options.addEventListener("change", (event) => {
      const { value, checked } = event.target;
      if (checked) this.selected.add(value);
      else this.selected.delete(value);
      this.renderSummary();
      this.onChange([...this.selected]);
    });
    $(".menu-clear").addEventListener("click", () => {
      this.selected.clear();
      this.render();
      this.onChange([]);
    });
    $(".menu-done").addEventListener("click", () => this.popover.hide({ restoreFocus: true }));
  }

  // The state's choice (from the URL).
  setSelected(values) {
    this.selected = new Set(values);
    this.render();
  }

  // The values present under the other filters: [{value, label}].
  setItems(items) {
    this.facetItems = items;
    for (const { value, label } of items) this.labels.set(value, label);
    this.render();
  }

  // The filters changed: counts shown in an open menu must follow.
  refresh() {
    if (this.popover.isOpen) {
      this.loadCounts(); // the old counts stay until the new ones arrive
    } else {
      this.counts = this.countedItems = null;
    }
  }

  async loadCounts() {
    this.inflight?.abort();
    const controller = new AbortController();
    this.inflight = controller;
    const params = this.countParams();
    params.set("facet", this.facet);
    try {
      const response = await fetch(`${this.countsUrl}?${params}`, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: controller.signal,
      });
      if (!response.ok) return; // the list shows the same filters' error
      const body = await response.json();
      this.counts = new Map(body.counts.map((item) => [item.value, item.count]));
      this.countedItems = body.counts.map(({ value, label }) => ({ value, label }));
      for (const { value, label } of this.countedItems) this.labels.set(value, label);
      this.render();
    } catch (error) {
      if (error.name !== "AbortError") throw error;
    } finally {
      if (this.inflight === controller) this.inflight = null;
    }
  }

  render() {
    const needle = this.find.value.trim().toLocaleLowerCase();
    const focused = this.options.contains(document.activeElement) ? document.activeElement.value : null;
    const items = this.countedItems ?? this.facetItems;
    const shown = new Map(items.map(({ value, label }) => [value, label]));
    for (const value of this.selected) if (!shown.has(value)) shown.set(value, this.labels.get(value) ?? `#${value}`);
    const entries = [...shown].filter(([, label]) => !needle || label.toLocaleLowerCase().includes(needle));
    this.options.replaceChildren(
      ...entries.map(([value, label]) => {
        const row = document.createElement("label");
        row.className = "menu-option";
        const box = document.createElement("input");
        box.type = "checkbox";
        box.value = value;
        box.checked = this.selected.has(value);
        const name = document.createElement("span");
        name.className = "option-label";
        name.textContent = label;
        const count = document.createElement("span");
        count.className = "option-count";
        count.textContent = this.counts ? (this.counts.get(value) ?? 0).toLocaleString() : "";
        row.append(box, name, count);
        return row;
      }),
    );
    if (focused !== null) {
      [...this.options.querySelectorAll("input")].find((box) => box.value === focused)?.focus();
    }
    this.options.setAttribute("aria-busy", String(this.counts === null && this.popover.isOpen));
    this.empty.hidden = entries.length > 0;
    this.renderSummary();
  }

  renderSummary() {
    const names = [...this.selected].map((value) => this.labels.get(value) ?? `#${value}`);
    this.summary.textContent =
      names.length === 0 ? this.anyText : names.length === 1 ? names[0] : `${names[0]} + ${names.length - 1} more`;
    this.button.classList.toggle("has-choice", names.length > 0);
  }
}
