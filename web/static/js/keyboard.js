// Keyboard shortcuts: j/k move, Enter opens, Delete (or Backspace) deletes, / searches, Esc goes back.
// The single-key ones can be turned off with a toggle (they fight screen readers' own keys); the choice is
// remembered locally. Esc always works.

import { isTyping } from "./dom.js";

const STORAGE_KEY = "mailtrap-lite-shortcuts";

function readEnabled() {
  try {
    return localStorage.getItem(STORAGE_KEY) !== "off";
  } catch {
    return true; // storage can be disabled: shortcuts stay on
  }
}

let enabled = readEnabled();

function showState(toggle) {
  toggle.setAttribute("aria-pressed", enabled ? "true" : "false");
  toggle.title = enabled ? "Turn the single-key shortcuts off" : "Turn the single-key shortcuts on";
}

/** Wire the toggle button: each press turns the single-key shortcuts on or off and remembers the choice. */
function setUpToggle(toggle) {
  showState(toggle);
  toggle.addEventListener("click", () => {
    enabled = !enabled;
    try {
      localStorage.setItem(STORAGE_KEY, enabled ? "on" : "off");
    } catch {
      // not remembered across reloads, but in force now
    }
    showState(toggle);
  });
}

/** Install the shortcuts and their on/off `toggle`. `actions` has move(delta), open(), remove(), search(),
 * escape(fromSearch). */
export function setUpKeyboard(actions, toggle) {
  setUpToggle(toggle);
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (document.querySelector("dialog[open]")) return; // dialogs handle their own keys (Esc closes them)
    if (event.key === "Escape") {
      actions.escape(isTyping(event));
      event.preventDefault();
      return;
    }
    if (!enabled || isTyping(event)) return;
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
