// Keyboard shortcuts: j/k move, Enter opens, Delete (or Backspace) deletes, / searches, Esc goes back.

import { isTyping } from "./dom.js";

/** Install the shortcuts. `actions` has move(delta), open(), remove(), search(), escape(fromSearch). */
export function setUpKeyboard(actions) {
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (document.querySelector("dialog[open]")) return; // dialogs handle their own keys (Esc closes them)
    if (event.key === "Escape") {
      actions.escape(isTyping(event));
      event.preventDefault();
      return;
    }
    if (isTyping(event)) return;
    const target = event.target instanceof Element ? event.target : null;
    const onControl = target && target.closest("button, a, summary, iframe") !== null;
    switch (event.key) {
      case "j":
        actions.move(1);
        break;
      case "k":
        actions.move(-1);
        break;
      case "/":
        actions.search();
        break;
      case "Delete":
      case "Backspace": // the Delete key of Mac keyboards
        actions.remove();
        break;
      case "Enter":
        if (onControl) return; // a focused button or link does its own thing on Enter
        actions.open();
        break;
      default:
        return;
    }
    event.preventDefault();
  });
}
