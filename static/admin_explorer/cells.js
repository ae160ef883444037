// How each field of a result row is shown, in the table and in the task panel alike.
const dateFormatter = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function formatDate(iso) {
  return iso ? dateFormatter.format(new Date(iso)) : "";
}

function span(className, text) {
  const element = document.createElement("span");
  element.className = className;
  element.textContent = text;
  return element;
}

// A node (or text) showing ``row[key]``; statusLabels maps status values to their names.
export function fieldContent(key, row, statusLabels) {
  const value = row[key];
  switch (key) {
    case "status":
      return span(`status-badge status-${value}`, statusLabels[value] ?? value);
    case "quality_rating":
      return value === null ? "—" : value.toFixed(1);
    case "dataset_tags": {
      const fragment = document.createDocumentFragment();
      // Spaces between the chips, so they are read (and copied) as separate words.
      fragment.append(...value.flatMap((tag, i) => (i ? [" ", span("tag", tag)] : [span("tag", tag)])));
      return value.length ? fragment : "—";
    }
    case "created_at":
    case "updated_at":
    case "submitted_at":
      return value ? formatDate(value) : "—";
    default:
      return value === null || value === undefined ? "—" : String(value);
  }
}

export const CELL_CLASSES = {
  task_name: "task-name",
  status: "status",
  quality_rating: "rating",
  dataset_tags: "tags",
  created_at: "date",
  updated_at: "date",
  submitted_at: "date",
  task_id: "number",
};
