// The inspection UI: wires the list, the message pane, the panels and the live event stream together.
// Routing is by hash (`#/message/{ID}`), so a message has a URL a colleague can open.

import * as api from "./api.js";
import { byId, toast } from "./dom.js";
import { connectEvents } from "./events.js";
import { FaultsPanel } from "./faults.js";
import { setUpKeyboard } from "./keyboard.js";
import { MessageList } from "./list.js";
import { setUpTheme } from "./theme.js";
import { MessageViewer } from "./viewer.js";

const MESSAGE_ROUTE = /^#\/message\/([^/]+)$/;
const SEARCH_DELAY_MS = 300;
const PRUNE_CHECK_DELAY_MS = 300;

const list = new MessageList({ onOpen: openMessage, onChange: refreshChrome });
const viewer = new MessageViewer({ onDelete: (id) => deleteIds([id]), onClose: closeMessage });
const faults = new FaultsPanel();
const search = byId("search");

function openMessage(messageId) {
  const hash = `#/message/${encodeURIComponent(messageId)}`;
  if (window.location.hash === hash) route();
  else window.location.hash = hash;
}

function closeMessage() {
  if (window.location.hash !== "#/") window.location.hash = "#/";
  list.focusCursor();
}

/** Show what the URL names: a message, or just the list. */
async function route() {
  const match = MESSAGE_ROUTE.exec(window.location.hash);
  if (!match) {
    viewer.close();
    list.markOpen(null);
    return;
  }
  const messageId = decodeURIComponent(match[1]);
  list.markOpen(messageId);
  if ((await viewer.show(messageId)) === false) list.markOpen(null);
}

/** Report a failed API call in the toast. */
function reportFailure(action, error) {
  toast(`${action} failed: ${error.message}`, "error");
}

/** The unread count in the title and the enabled state of the selection buttons. */
function refreshChrome() {
  document.title = list.unread > 0 ? `(${list.unread}) mailtrap-lite` : "mailtrap-lite";
  const none = list.selectedIds().length === 0;
  for (const id of ["read-selected", "unread-selected", "delete-selected"]) byId(id).disabled = none;
}

async function deleteIds(ids) {
  if (ids.length === 0) return;
  try {
    await api.deleteMessages(ids);
  } catch (error) {
    reportFailure("Deleting", error);
    return;
  }
  // The websocket reports the deletes too; applying them here keeps the page right while it reconnects.
  for (const id of ids) messageGone(id);
}

function messageGone(messageId) {
  list.removed(messageId);
  if (viewer.openId === messageId) {
    window.location.hash = "#/";
    list.focusCursor();
  }
}

/** Ask before something that cannot be undone; resolves true when the user confirms. */
function confirmAction(text, confirmLabel) {
  const dialog = byId("confirm-dialog");
  byId("confirm-text").textContent = text;
  byId("confirm-ok").textContent = confirmLabel;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
  });
}

async function deleteAll() {
  const what = list.query ? "every message in the mailbox (not just the search results)" : "every message";
  if (!(await confirmAction(`Delete ${what}? This cannot be undone.`, "Delete all"))) return;
  try {
    await api.deleteAllMessages();
  } catch (error) {
    reportFailure("Deleting", error);
    return;
  }
  list.cleared();
  window.location.hash = "#/";
}

async function markSelected(read) {
  try {
    await api.setRead(list.selectedIds(), read);
  } catch (error) {
    reportFailure("Marking", error);
  }
}

function wireToolbar() {
  byId("delete-selected").addEventListener("click", () => deleteIds(list.selectedIds()));
  byId("read-selected").addEventListener("click", () => markSelected(true));
  byId("unread-selected").addEventListener("click", () => markSelected(false));
  byId("delete-all").addEventListener("click", deleteAll);
  let timer = 0;
  byId("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    list.search(search.value);
  });
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => list.search(search.value), SEARCH_DELAY_MS);
  });
}

function wireKeyboard() {
  setUpKeyboard({
    move: (delta) => list.move(delta),
    open: () => {
      const id = list.messages[list.cursor]?.ID;
      if (id) openMessage(id);
    },
    remove: () => {
      const id = list.cursorId();
      if (id) deleteIds([id]);
    },
    search: () => {
      search.focus();
      search.select();
    },
    escape: (fromField) => {
      if (fromField) document.activeElement.blur();
      if (!fromField && viewer.openId) closeMessage();
      else list.focusCursor();
    },
  }, byId("shortcuts-toggle"));
}

function wireEvents() {
  let pruneCheck = 0;
  connectEvents({
    new: (summary) => list.added(summary),
    update: (change) => {
      list.updated(change);
      viewer.updated(change);
    },
    delete: (data) => messageGone(typeof data === "string" ? data : data.ID),
    truncate: () => {
      list.cleared();
      if (viewer.openId) window.location.hash = "#/";
    },
    prune: () => {
      list.scheduleReload();
      clearTimeout(pruneCheck);
      pruneCheck = setTimeout(async () => {
        if (!(await viewer.stillThere())) window.location.hash = "#/";
      }, PRUNE_CHECK_DELAY_MS);
    },
    stats: (data) => list.stats(data),
    faults: () => faults.load(),
    session: () => faults.sessionEnded(),
  }, {
    // After a (re)connect, reload: events missed while disconnected are not replayed.
    onOpen: () => list.load(),
  });
}

async function start() {
  setUpTheme(byId("theme-toggle"));
  wireToolbar();
  wireKeyboard();
  window.addEventListener("hashchange", route);
  setInterval(() => list.tick(), 30000);
  try {
    const config = await api.getWebUiConfig();
    viewer.setRelay(config.MessageRelay);
  } catch (error) {
    toast(`Could not read the UI settings: ${error.message}`, "error");
  }
  await list.load();
  faults.load();
  route();
  wireEvents();
}

start();
