// Building DOM nodes from data. Message data only ever reaches the page as text (textContent) or as
// attribute values, never as markup: subjects and file names with HTML in them are shown, not parsed.

/**
 * Create an element. `props` sets attributes (a `class`, `data-*`, `aria-*`, ...) except for `text`, which sets
 * textContent, and `on<event>` functions, which become listeners. Children may be nodes, strings or null.
 */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

/** Append children (nodes or strings; arrays are flattened, null skipped). */
export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace every child of `node`. */
export function replaceChildren(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

/** The element with this id (throws early on a template/script mismatch rather than failing later). */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`missing element #${id}`);
  return node;
}

/** True when a key press belongs to a text field rather than to the page's shortcuts. */
export function isTyping(event) {
  const target = event.target;
  if (!(target instanceof Element)) return false;
  return target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']") !== null;
}

let toastTimer = 0;

/** Show a short message in the status toast (errors from the API, confirmations). */
export function toast(message, kind = "info") {
  const node = byId("toast");
  node.textContent = message;
  node.dataset.kind = kind;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, kind === "error" ? 8000 : 3000);
}

/** Show "Loading…" while `load()` runs; returns its result, or null after showing the error (or moving on). */
export async function loadInto(panel, load, stillWanted) {
  const waiting = h("p", { class: "hint", text: "Loading\u2026" });
  panel.append(waiting);
  try {
    const result = await load();
    if (!stillWanted()) return null;
    waiting.remove();
    return result;
  } catch (error) {
    if (stillWanted()) waiting.replaceWith(h("p", { class: "form-error", text: error.message }));
    return null;
  }
}
