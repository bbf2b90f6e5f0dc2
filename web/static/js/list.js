// The message list: one page (newest first) of the mailbox or of a search, kept current by live events.
// Only `PAGE_SIZE` rows are ever in the DOM, so a mailbox of 100,000 messages costs the page nothing more.

import * as api from "./api.js";
import { byId, h, replaceChildren } from "./dom.js";
import { fullTime, relativeTime, senderLabel } from "./format.js";

export const PAGE_SIZE = 50;
const RELOAD_DELAY_MS = 150;

export class MessageList {
  /** `onOpen(id)` opens a message; `onChange()` is told when counts or the selection change. */
  constructor({ onOpen, onChange }) {
    this.onOpen = onOpen;
    this.onChange = onChange;
    this.messages = [];
    this.matches = 0;
    this.unread = 0;
    this.start = 0;
    this.query = "";
    this.selected = new Set();
    this.cursor = -1;
    this.openId = null;
    this.reloadTimer = 0;
    this.loading = null;
    this.changes = 0; // live changes seen; a page fetched before one of them is stale
    this.renderQueued = false;
    this.node = byId("message-list");
    this.status = byId("list-status");
    this.pageInfo = byId("page-info");
    this.selectPage = byId("select-page");
    this.newer = byId("newer-page");
    this.older = byId("older-page");
    this.newer.addEventListener("click", () => this.goTo(Math.max(0, this.start - PAGE_SIZE)));
    this.older.addEventListener("click", () => this.goTo(this.start + PAGE_SIZE));
    this.selectPage.addEventListener("change", () => this.selectAllOnPage(this.selectPage.checked));
  }

  // -- loading ------------------------------------------------------------------------------------------------

  /** Show the newest page of `query` (empty: the whole mailbox). */
  search(query) {
    this.query = query.trim();
    this.selected.clear();
    return this.goTo(0);
  }

  /** Show the page that begins at `start`. */
  goTo(start) {
    this.start = start;
    this.cursor = -1;
    return this.load();
  }

  /** Fetch the current page again (after live changes that cannot be applied in place). */
  async load() {
    clearTimeout(this.reloadTimer);
    const wanted = { query: this.query, start: this.start, limit: PAGE_SIZE };
    const loading = api.listMessages(wanted);
    const changesBefore = this.changes;
    this.loading = loading;
    let page;
    try {
      page = await loading;
    } catch (error) {
      if (this.loading !== loading) return;
      this.messages = [];
      this.matches = 0;
      this.render(`${this.query ? "Search" : "Loading the list"} failed: ${error.message}`);
      return;
    }
    if (this.loading !== loading) return; // a newer request superseded this one
    // Live events that arrived while this page was on its way may be missing from it: fetch once more.
    if (this.changes !== changesBefore) this.scheduleReload();
    this.messages = page.messages || [];
    this.matches = page.messages_count ?? page.total ?? this.messages.length;
    this.unread = page.unread ?? this.unread;
    if (this.start > 0 && this.messages.length === 0 && this.matches > 0) {
      this.goTo(Math.max(0, Math.floor((this.matches - 1) / PAGE_SIZE) * PAGE_SIZE));
      return;
    }
    const ids = new Set(this.messages.map((m) => m.ID));
    for (const selectedId of this.selected) if (!ids.has(selectedId)) this.selected.delete(selectedId);
    this.cursor = Math.min(this.cursor, this.messages.length - 1);
    this.render();
  }

  /** Coalesce bursts of live changes into one reload. */
  scheduleReload() {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => this.load(), RELOAD_DELAY_MS);
  }

  // -- live events --------------------------------------------------------------------------------------------

  /** A message arrived: shown at once on the first unfiltered page, otherwise the page is refetched. */
  added(summary) {
    this.changes += 1;
    if (!summary.Read) this.unread += 1;
    if (this.start !== 0 || this.query) {
      this.scheduleReload();
      this.onChange();
      return;
    }
    if (this.messages.some((m) => m.ID === summary.ID)) return;
    this.messages.unshift(summary);
    if (this.messages.length > PAGE_SIZE) this.messages.pop();
    this.matches += 1;
    if (this.cursor >= 0) this.cursor += 1;
    this.renderSoon();
  }

  /** Read state or tags of a message changed. */
  updated(change) {
    this.changes += 1;
    const message = this.messages.find((m) => m.ID === change.ID);
    if ("Read" in change && message && message.Read !== change.Read) {
      this.unread += change.Read ? -1 : 1;
    }
    if (!message) {
      this.onChange();
      return;
    }
    if ("Read" in change) message.Read = change.Read;
    if ("Tags" in change) message.Tags = change.Tags || [];
    if (this.query) this.scheduleReload();
    this.renderSoon();
  }

  /** A message was deleted: its row goes at once, then the page is refilled. */
  removed(messageId) {
    this.changes += 1;
    const index = this.messages.findIndex((m) => m.ID === messageId);
    if (index >= 0) {
      if (!this.messages[index].Read) this.unread = Math.max(0, this.unread - 1);
      this.messages.splice(index, 1);
      this.matches = Math.max(0, this.matches - 1);
      if (index < this.cursor) this.cursor -= 1;
      this.cursor = Math.min(this.cursor, this.messages.length - 1);
    }
    this.selected.delete(messageId);
    this.renderSoon();
    this.scheduleReload();
  }

  /** Everything was deleted. */
  cleared() {
    this.changes += 1;
    this.messages = [];
    this.matches = 0;
    this.unread = 0;
    this.start = 0;
    this.selected.clear();
    this.cursor = -1;
    this.render();
  }

  /** The server's authoritative mailbox counts. */
  stats(data) {
    if (data && typeof data.Unread === "number") {
      this.unread = data.Unread;
      this.onChange();
    }
  }

  // -- cursor, selection, opening -----------------------------------------------------------------------------

  /** Move the keyboard cursor by `delta` rows (j/k), turning the page at either end. */
  move(delta) {
    if (this.messages.length === 0) return;
    let next = this.cursor < 0 ? (delta > 0 ? 0 : this.messages.length - 1) : this.cursor + delta;
    if (next >= this.messages.length && !this.older.disabled) {
      this.goTo(this.start + PAGE_SIZE).then(() => this.setCursor(0));
      return;
    }
    if (next < 0 && this.start > 0) {
      this.goTo(Math.max(0, this.start - PAGE_SIZE)).then(() => this.setCursor(this.messages.length - 1));
      return;
    }
    next = Math.max(0, Math.min(next, this.messages.length - 1));
    this.setCursor(next);
  }

  setCursor(index) {
    this.cursor = index;
    this.focusCursor();
  }

  /** Put keyboard focus in the list (Esc from the search box or the message lands here): on the cursor row, or on
   * the list itself while it has no rows, so that the first row of the next page (a search on its way) takes it. */
  focusCursor() {
    this.node.focus();
    this.render();
  }

  /** The id the keyboard acts on: the cursor row, else the open message. */
  cursorId() {
    return this.messages[this.cursor]?.ID ?? this.openId;
  }

  /** Mark the open message in the list (and move the cursor to it). */
  markOpen(messageId) {
    this.openId = messageId;
    const index = this.messages.findIndex((m) => m.ID === messageId);
    if (index >= 0) this.cursor = index;
    this.render();
  }

  selectAllOnPage(checked) {
    for (const message of this.messages) {
      if (checked) this.selected.add(message.ID);
      else this.selected.delete(message.ID);
    }
    this.render();
  }

  /** The ids ticked on this page (what "Delete selected" and "Mark read" act on). */
  selectedIds() {
    return this.messages.filter((m) => this.selected.has(m.ID)).map((m) => m.ID);
  }

  // -- rendering ----------------------------------------------------------------------------------------------

  /** Draw once per animation frame however many live events arrive (a burst of mail costs one render). */
  renderSoon() {
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => {
      this.renderQueued = false;
      this.render();
    });
  }

  render(problem = "") {
    const hadFocus = this.node.contains(document.activeElement);
    // A new page (a search that ran after Esc left the search box, say) has no cursor yet: the focus stays in the
    // list, on its first row (or on the list while it is empty), rather than falling out of the page with the rows.
    if (hadFocus && this.cursor < 0 && this.messages.length) this.cursor = 0;
    replaceChildren(this.node, this.messages.map((message, index) => this.row(message, index)));
    if (hadFocus) (this.node.querySelector(`li[data-index="${this.cursor}"] .row-open`) ?? this.node).focus();
    const last = this.start + this.messages.length;
    this.pageInfo.textContent = this.matches
      ? `${(this.start + 1).toLocaleString()}\u2013${last.toLocaleString()} of ${this.matches.toLocaleString()}`
      : "";
    this.newer.disabled = this.start === 0;
    this.older.disabled = last >= this.matches;
    const onPage = this.messages.length;
    const ticked = this.selectedIds().length;
    this.selectPage.checked = onPage > 0 && ticked === onPage;
    this.selectPage.indeterminate = ticked > 0 && ticked < onPage;
    if (problem) this.status.textContent = problem;
    else if (onPage === 0) this.status.textContent = this.query ? "No messages match this search." : "No messages yet.";
    else this.status.textContent = this.query ? `${this.matches.toLocaleString()} matching` : "";
    this.status.dataset.problem = problem ? "true" : "false";
    this.onChange();
  }

  row(message, index) {
    const subject = message.Subject || "(no subject)";
    const when = message.Created || "";
    const badges = [];
    if (message.Attachments > 0) {
      const label = message.Attachments === 1 ? "1 attachment" : `${message.Attachments} attachments`;
      badges.push(h("span", { class: "badge attachment-badge", title: label },
        h("span", { class: "visually-hidden", text: label }),
        h("span", { "aria-hidden": "true", text: String(message.Attachments) })));
    }
    for (const tag of message.Tags || []) badges.push(h("span", { class: "badge tag-badge", text: tag }));
    const checkbox = h("input", {
      type: "checkbox",
      class: "row-select",
      "aria-label": `Select: ${subject}`,
      checked: this.selected.has(message.ID),
      onchange: (event) => {
        if (event.target.checked) this.selected.add(message.ID);
        else this.selected.delete(message.ID);
        this.render();
      },
    });
    const open = h("button", {
      type: "button",
      class: "row-open",
      "aria-current": message.ID === this.openId ? "true" : null,
      onclick: () => {
        this.cursor = index;
        this.onOpen(message.ID);
      },
      onfocus: () => {
        if (this.cursor !== index) {
          this.cursor = index;
          this.node.querySelectorAll("li.current").forEach((li) => li.classList.remove("current"));
          this.node.querySelector(`li[data-index="${index}"]`)?.classList.add("current");
        }
      },
    },
    message.Read ? null : h("span", { class: "visually-hidden", text: "Unread: " }),
    h("span", { class: "row-from", text: senderLabel(message.From) }),
    h("time", { class: "row-time", datetime: when, title: fullTime(when), text: relativeTime(when) }),
    h("span", { class: "row-subject", text: subject }),
    h("span", { class: "row-snippet", text: message.Snippet || "" }),
    badges.length ? h("span", { class: "row-badges" }, badges) : null);
    const classes = ["row"];
    if (!message.Read) classes.push("unread");
    if (index === this.cursor) classes.push("current");
    if (this.selected.has(message.ID)) classes.push("selected");
    if (message.ID === this.openId) classes.push("open");
    return h("li", { class: classes.join(" "), "data-id": message.ID, "data-index": index }, checkbox, open);
  }

  /** Refresh the relative times ("5 min ago") without refetching. */
  tick() {
    for (const node of this.node.querySelectorAll("time.row-time")) {
      node.textContent = relativeTime(node.getAttribute("datetime"));
    }
  }
}
