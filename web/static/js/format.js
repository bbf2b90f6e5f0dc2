// Turning API values into short human text.

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "just now", "5 min ago", "3 h ago", "yesterday", or a date, for an ISO timestamp. */
export function relativeTime(iso, now = Date.now()) {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return "";
  const seconds = Math.max(0, Math.round((now - then) / 1000));
  if (seconds < 45) return "just now";
  if (seconds < HOUR) return `${Math.round(seconds / MINUTE)} min ago`;
  if (seconds < DAY) return `${Math.round(seconds / HOUR)} h ago`;
  if (seconds < 2 * DAY) return "yesterday";
  const date = new Date(then);
  const sameYear = date.getFullYear() === new Date(now).getFullYear();
  return date.toLocaleDateString(undefined, sameYear
    ? { month: "short", day: "numeric" }
    : { year: "numeric", month: "short", day: "numeric" });
}

/** The full local date and time, for tooltips and the message header. */
export function fullTime(iso) {
  const then = Date.parse(iso);
  return Number.isNaN(then) ? String(iso || "") : new Date(then).toLocaleString();
}

/** "1.2 MB", "340 B". */
export function byteSize(bytes) {
  const units = ["B", "KB", "MB", "GB"];
  let value = Number(bytes) || 0;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** `Name <address>` or just the address (or the name, for an unparseable header). */
export function address(entry) {
  if (!entry) return "";
  const { Name: name, Address: addr } = entry;
  if (name && addr) return `${name} <${addr}>`;
  return addr || name || "";
}

/** The short label shown for a sender in the list: the display name, else the address. */
export function senderLabel(entry) {
  if (!entry) return "(no sender)";
  return entry.Name || entry.Address || "(no sender)";
}

/** A comma-separated address list. */
export function addressList(entries) {
  return (entries || []).map(address).filter(Boolean).join(", ");
}

/** Split user-typed "a, b ,c" into trimmed non-empty items. */
export function splitList(text) {
  return String(text).split(",").map((item) => item.trim()).filter(Boolean);
}
