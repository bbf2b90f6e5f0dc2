// The message pane: header, actions and the tabs (HTML preview, text, source, headers, raw, attachments,
// links, SMTP). Tabs are built when chosen, so a 5 MB message costs only what the user looks at.

import * as api from "./api.js";
import { byId, h, loadInto, replaceChildren, toast } from "./dom.js";
import { addressList, byteSize, fullTime, splitList } from "./format.js";
import { renderSmtp } from "./smtp_tab.js";

const SHOWN_TEXT_LIMIT = 512 * 1024;
// Preview widths; the pixel sizes live in the stylesheet (.preview-stage.width-*).
const WIDTHS = [
  { key: "mobile", label: "Mobile" },
  { key: "tablet", label: "Tablet" },
  { key: "desktop", label: "Desktop" },
];

const TABS = [
  { key: "html", label: "HTML", render: renderHtml },
  { key: "text", label: "Text", render: renderText },
  { key: "source", label: "HTML source", render: renderSource },
  { key: "headers", label: "Headers", render: renderHeaders },
  { key: "raw", label: "Raw", render: renderRaw },
  { key: "attachments", label: "Attachments", render: renderAttachments },
  { key: "links", label: "Links", render: renderLinks },
  { key: "smtp", label: "SMTP", render: renderSmtp },
];

export class MessageViewer {
  /** `onDelete(id)` deletes, `onClose()` goes back to the list. */
  constructor({ onDelete, onClose }) {
    this.onDelete = onDelete;
    this.onClose = onClose;
    this.message = null;
    this.wanted = null;
    this.read = false;
    this.tab = "html";
    this.width = "desktop";
    this.remoteContent = false;
    this.relay = null;
    this.view = byId("message-view");
    this.empty = byId("empty-pane");
    this.tabs = byId("message-tabs");
    this.panel = byId("tab-panel");
    this.tabs.addEventListener("keydown", (event) => this.tabKey(event));
    byId("back-to-list").addEventListener("click", () => this.onClose());
    byId("delete-message").addEventListener("click", () => this.message && this.onDelete(this.message.ID));
    byId("toggle-read").addEventListener("click", () => this.toggleRead());
    byId("release-button").addEventListener("click", () => this.openRelease());
    byId("release-cancel").addEventListener("click", () => byId("release-dialog").close());
    byId("release-form").addEventListener("submit", (event) => this.release(event));
    byId("tag-form").addEventListener("submit", (event) => this.saveTags(event));
  }

  /** Tell the viewer whether (and where) release is possible, from `/api/v1/webui`. */
  setRelay(relay) {
    this.relay = relay && relay.Enabled ? relay : null;
    byId("release-button").disabled = !this.relay;
  }

  get openId() {
    return this.message ? this.message.ID : null;
  }

  /** Fetch and show a message (the API marks it read). Resolves true when shown, false when it cannot be
   * opened, null when another message was asked for in the meantime. */
  async show(messageId) {
    this.wanted = messageId;
    let message;
    try {
      message = await api.getMessage(messageId);
    } catch (error) {
      if (this.wanted !== messageId) return null;
      this.close();
      toast(error.status === 404 ? "That message no longer exists." : `Could not open: ${error.message}`, "error");
      return false;
    }
    if (this.wanted !== messageId) return null; // the user has moved on to another message
    const sameMessage = this.message && this.message.ID === message.ID;
    this.message = message;
    this.read = true;
    if (!sameMessage) this.remoteContent = false;
    if (!message.HTML && this.tab === "html") this.tab = "text";
    this.renderHead();
    this.renderTabs();
    this.renderPanel();
    this.view.hidden = false;
    this.empty.hidden = true;
    document.body.classList.add("reading");
    return true;
  }

  /** Close the pane (the message was deleted, or the user went back). */
  close() {
    this.message = null;
    this.wanted = null;
    this.view.hidden = true;
    this.empty.hidden = false;
    this.panel.replaceChildren();
    document.body.classList.remove("reading");
  }

  /** Whether the open message still exists (after a `prune`, which does not say what went); false closes. */
  async stillThere() {
    const messageId = this.openId;
    if (!messageId) return true;
    try {
      await api.getHeaders(messageId); // unlike opening the message again, this leaves its read state alone
      return true;
    } catch (error) {
      if (error.status !== 404 || this.openId !== messageId) return true;
      this.close();
      return false;
    }
  }

  /** A live `update` for the open message. */
  updated(change) {
    if (!this.message || change.ID !== this.message.ID) return;
    if ("Read" in change) {
      this.read = change.Read;
      this.renderReadButton();
    }
    if ("Tags" in change) {
      this.message.Tags = change.Tags || [];
      this.renderTags();
    }
  }

  // -- header and actions -------------------------------------------------------------------------------------

  renderHead() {
    const message = this.message;
    byId("message-subject").textContent = message.Subject || "(no subject)";
    const notice = byId("raw-notice");
    notice.textContent = message.ShownAsRaw ? `Shown as raw: ${message.ShownAsRaw}` : "";
    notice.hidden = !message.ShownAsRaw;
    const rows = [
      ["From", addressList([message.From])],
      ["To", addressList(message.To)],
      ["Cc", addressList(message.Cc)],
      ["Bcc", addressList(message.Bcc)],
      ["Reply-To", addressList(message.ReplyTo)],
      ["Date", fullTime(message.Date)],
      ["Size", byteSize(message.Size)],
    ].filter(([, value]) => value);
    replaceChildren(byId("message-meta"), rows.map(([term, value]) => [h("dt", { text: term }), h("dd", { text: value })]));
    const download = byId("download-eml");
    download.href = api.urls.rawDownload(message.ID);
    download.setAttribute("download", `${message.ID}.eml`);
    this.renderReadButton();
    this.renderTags();
  }

  renderReadButton() {
    byId("toggle-read").textContent = this.read ? "Mark unread" : "Mark read";
  }

  renderTags() {
    byId("tag-input").value = (this.message.Tags || []).join(", ");
  }

  async toggleRead() {
    const wanted = !this.read;
    try {
      await api.setRead([this.message.ID], wanted);
      this.read = wanted; // the live `update` event may already have said so
      this.renderReadButton();
    } catch (error) {
      toast(`Marking failed: ${error.message}`, "error");
    }
  }

  async saveTags(event) {
    event.preventDefault();
    const tags = splitList(byId("tag-input").value);
    try {
      await api.setTags([this.message.ID], tags);
      toast(tags.length ? `Tagged: ${tags.join(", ")}` : "Tags cleared");
    } catch (error) {
      toast(`Tagging failed: ${error.message}`, "error");
    }
  }

  openRelease() {
    if (!this.relay || !this.message) return;
    byId("release-relay").textContent = `Sends this message through ${this.relay.SMTPServer || "the relay"}.`;
    byId("release-to").value = this.message.To.map((entry) => entry.Address).filter(Boolean).join(", ");
    byId("release-error").textContent = "";
    byId("release-dialog").showModal();
  }

  async release(event) {
    event.preventDefault();
    const to = splitList(byId("release-to").value);
    try {
      await api.releaseMessage(this.message.ID, to);
      byId("release-dialog").close();
      toast(`Released to ${to.join(", ")}`);
    } catch (error) {
      byId("release-error").textContent = error.message;
    }
  }

  // -- tabs ---------------------------------------------------------------------------------------------------

  renderTabs() {
    const counts = {
      attachments: this.message.Attachments.length + this.message.Inline.length,
    };
    replaceChildren(this.tabs, TABS.map((tab) => h("button", {
      type: "button",
      role: "tab",
      id: `tab-${tab.key}`,
      "aria-selected": tab.key === this.tab ? "true" : "false",
      "aria-controls": "tab-panel",
      tabindex: tab.key === this.tab ? "0" : "-1",
      onclick: () => this.choose(tab.key),
    }, tab.label, tab.key in counts ? h("span", { class: "badge", text: String(counts[tab.key]) }) : null)));
    this.panel.setAttribute("aria-labelledby", `tab-${this.tab}`);
  }

  choose(key) {
    this.tab = key;
    this.renderTabs();
    this.renderPanel();
  }

  /** Arrow keys move between tabs, as the ARIA tabs pattern expects. */
  tabKey(event) {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    const index = TABS.findIndex((tab) => tab.key === this.tab);
    const next = TABS[(index + step + TABS.length) % TABS.length];
    this.choose(next.key);
    byId(`tab-${next.key}`).focus();
    event.preventDefault();
  }

  renderPanel() {
    const tab = TABS.find((entry) => entry.key === this.tab);
    this.panel.dataset.tab = tab.key;
    replaceChildren(this.panel);
    const expected = this.message.ID;
    // Tabs that fetch check that the user has not moved on before they draw.
    tab.render(this, this.panel, () => this.message && this.message.ID === expected && this.tab === tab.key);
  }

  setWidth(key) {
    this.width = key;
    this.renderPanel();
  }

  allowRemoteContent() {
    this.remoteContent = true;
    this.renderPanel();
  }
}

// -- the tab renderers: (viewer, panel, stillWanted) ------------------------------------------------------------

function renderHtml(viewer, panel) {
  const message = viewer.message;
  if (!message.HTML) {
    panel.append(h("p", { class: "hint", text: "This message has no HTML part." }));
    return;
  }
  const widths = h("div", { class: "segmented", role: "group", "aria-label": "Preview width" },
    WIDTHS.map((width) => h("button", {
      type: "button",
      class: "button",
      "aria-pressed": width.key === viewer.width ? "true" : "false",
      onclick: () => viewer.setWidth(width.key),
    }, width.label)));
  const remote = viewer.remoteContent
    ? h("span", { class: "hint", text: "Remote content allowed for this message." })
    : h("button", {
      type: "button",
      class: "button",
      title: "Remote images, styles and fonts are blocked so that opening a mail does not tell its sender",
      onclick: () => viewer.allowRemoteContent(),
    }, "Load remote content");
  const frame = h("iframe", {
    sandbox: "",
    referrerpolicy: "no-referrer",
    title: `HTML preview of: ${message.Subject || "(no subject)"}`,
    class: "preview-frame",
    src: api.urls.preview(message.ID, viewer.remoteContent),
  });
  const stage = h("div", { class: `preview-stage width-${viewer.width}` }, frame);
  panel.append(h("div", { class: "panel-tools" }, widths, remote), stage);
}

/** A `<pre>` of possibly huge text: the first 512 KB, with a note pointing at the full download. */
function bigText(text, message, label) {
  const pre = h("pre", { class: "code", tabindex: "0", "aria-label": label });
  pre.textContent = text.length > SHOWN_TEXT_LIMIT ? text.slice(0, SHOWN_TEXT_LIMIT) : text;
  if (text.length <= SHOWN_TEXT_LIMIT) return pre;
  const note = h("p", { class: "hint" },
    `Showing the first ${byteSize(SHOWN_TEXT_LIMIT)} of ${byteSize(text.length)}. `,
    h("a", { href: api.urls.rawDownload(message.ID), download: `${message.ID}.eml` }, "Download the whole message"));
  return h("div", {}, note, pre);
}

function renderText(viewer, panel) {
  const text = viewer.message.Text;
  panel.append(text ? bigText(text, viewer.message, "Text body") : h("p", { class: "hint", text: "This message has no text part." }));
}

function renderSource(viewer, panel) {
  const html = viewer.message.HTML;
  panel.append(html ? bigText(html, viewer.message, "HTML source") : h("p", { class: "hint", text: "This message has no HTML part." }));
}

async function renderHeaders(viewer, panel, stillWanted) {
  const headers = await loadInto(panel, () => api.getHeaders(viewer.message.ID), stillWanted);
  if (!headers) return;
  const rows = Object.entries(headers).flatMap(([name, values]) =>
    values.map((value) => h("tr", {}, h("th", { scope: "row", text: name }), h("td", { text: value }))));
  panel.append(h("table", { class: "headers-table" },
    h("caption", { class: "visually-hidden", text: "Message headers" }), h("tbody", {}, rows)));
}

async function renderRaw(viewer, panel, stillWanted) {
  const raw = await loadInto(panel, () => api.getRaw(viewer.message.ID), stillWanted);
  if (raw !== null) panel.append(bigText(String(raw), viewer.message, "Raw message"));
}

function renderAttachments(viewer, panel) {
  const message = viewer.message;
  const parts = [
    ...message.Attachments.map((part) => ({ part, inline: false })),
    ...message.Inline.map((part) => ({ part, inline: true })),
  ];
  if (parts.length === 0) {
    panel.append(h("p", { class: "hint", text: "No attachments." }));
    return;
  }
  panel.append(h("ul", { class: "attachment-list" }, parts.map(({ part, inline }) => {
    const url = api.urls.part(message.ID, part.PartID);
    const name = part.FileName || part.ContentID || `part ${part.PartID}`;
    const preview = part.ContentType.startsWith("image/")
      ? h("img", { src: url, alt: `Preview of ${name}`, class: "attachment-preview", loading: "lazy" })
      : h("span", { class: "attachment-icon", "aria-hidden": "true", text: fileKind(name, part.ContentType) });
    return h("li", { class: "attachment" }, preview,
      h("span", { class: "attachment-name", text: name }),
      h("span", { class: "hint", text: `${part.ContentType} \u00b7 ${byteSize(part.Size)}${inline ? " \u00b7 inline" : ""}` }),
      h("a", { class: "button", href: url, download: name, "aria-label": `Download ${name}` }, "Download"));
  })));
}

/** A short label for a file without a preview: its extension ("PDF"), else its media type's subtype. */
function fileKind(name, contentType) {
  const extension = /\.([a-z0-9]{1,5})$/i.exec(name);
  const kind = extension ? extension[1] : contentType.split("/")[1] || "file";
  return kind.slice(0, 5).toUpperCase();
}

async function renderLinks(viewer, panel, stillWanted) {
  const answer = await loadInto(panel, () => api.getLinks(viewer.message.ID), stillWanted);
  if (!answer) return;
  const links = linkList(answer).filter((url) => /^https?:\/\//i.test(url));
  if (links.length === 0) {
    panel.append(h("p", { class: "hint", text: "No links." }));
    return;
  }
  panel.append(h("ol", { class: "link-list" }, links.map((url) =>
    h("li", {}, h("a", { href: url, target: "_blank", rel: "noopener noreferrer", referrerpolicy: "no-referrer", text: url })))));
}

/** The link URLs of a `/links` answer, whether it is a list of strings or of objects with `URL`. */
function linkList(answer) {
  const items = Array.isArray(answer) ? answer : answer.Links || [];
  return items.map((item) => (typeof item === "string" ? item : item.URL || item.Url || "")).filter(Boolean);
}
