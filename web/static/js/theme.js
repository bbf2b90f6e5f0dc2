// Light and dark themes: follow the system until the user picks one with the toggle (remembered locally).

const STORAGE_KEY = "mailtrap-lite-theme";
const systemDark = window.matchMedia("(prefers-color-scheme: dark)");

function readChoice() {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return value === "light" || value === "dark" ? value : null;
  } catch {
    return null; // storage can be disabled; the system preference still applies
  }
}

let chosen = readChoice();

/** The theme in force: the user's choice, else the system's. */
export function currentTheme() {
  return chosen || (systemDark.matches ? "dark" : "light");
}

function apply(button) {
  const theme = currentTheme();
  document.documentElement.dataset.theme = theme;
  button.setAttribute("aria-pressed", theme === "dark" ? "true" : "false");
  button.title = theme === "dark" ? "Switch to the light theme" : "Switch to the dark theme";
}

/** Wire the toggle button: each press flips the theme and remembers the choice. */
export function setUpTheme(button) {
  apply(button);
  systemDark.addEventListener("change", () => apply(button));
  button.addEventListener("click", () => {
    chosen = currentTheme() === "dark" ? "light" : "dark";
    try {
      localStorage.setItem(STORAGE_KEY, chosen);
    } catch {
      // not remembered across reloads, but still applied now
    }
    apply(button);
  });
}
