// The SMTP tab: how the message arrived. Envelope, TLS and AUTH facts and the session transcript (with the
// fault rules that fired), all from our `/api/v1/sessions` extension.

import * as api from "./api.js";
import { h, loadInto } from "./dom.js";
import { fullTime } from "./format.js";

const DIRECTIONS = { C: "client", S: "server", F: "fault" };

/** Find the session that delivered the open message and draw its facts and transcript. */
export async function renderSmtp(viewer, panel, stillWanted) {
  const messageId = viewer.message.ID;
  const session = await loadInto(panel, async () => {
    const answer = await api.listSessions();
    const sessions = Array.isArray(answer) ? answer : answer.Sessions || answer.sessions || [];
    const found = sessions.find((entry) => (entry.MessageIDs || []).includes(messageId));
    return found ? api.getSession(found.ID) : {};
  }, stillWanted);
  if (!session) return;
  if (!session.ID) {
    panel.append(h("p", {
      class: "hint",
      text: "No SMTP session is recorded for this message (it came through the send API, or its session has "
        + "left the ring of recent sessions).",
    }));
    return;
  }
  const attempt = (session.Attempts || []).find((entry) => entry.MessageID === messageId) || {};
  const facts = [
    ["MAIL FROM", attempt.Sender ? `<${attempt.Sender}>` : "<>"],
    ["RCPT TO", (attempt.Recipients || []).map((r) => `<${r}>`).join(", ")],
    ["Rejected recipients", (attempt.RejectedRecipients || []).map((r) => `<${r.Address}> (${r.Code})`).join(", ")],
    ["Client", session.Peer],
    ["HELO/EHLO", session.Helo],
    ["TLS", session.TLS ? "yes (STARTTLS or implicit TLS)" : "no"],
    ["AUTH user", session.Username || "none"],
    ["Connected", fullTime(session.Started)],
    ["Duration", typeof session.Duration === "number" ? `${session.Duration.toFixed(3)} s` : ""],
    ["Faults fired", (session.Faults || []).join(", ") || "none"],
  ].filter(([, value]) => value);
  panel.append(
    h("h3", { class: "panel-heading", text: "Envelope and session" }),
    h("dl", { class: "facts" }, facts.map(([term, value]) => [h("dt", { text: term }), h("dd", { text: value })])),
    h("h3", { class: "panel-heading", text: "Transcript" }),
    transcriptTable(session.Transcript || []),
  );
}

function transcriptTable(lines) {
  return h("table", { class: "transcript" },
    h("thead", {}, h("tr", {},
      h("th", { scope: "col", text: "Time (s)" }),
      h("th", { scope: "col", text: "Who" }),
      h("th", { scope: "col", text: "Line" }))),
    h("tbody", {}, lines.map((line) => h("tr", { class: `line-${DIRECTIONS[line.Direction] || "other"}` },
      h("td", { text: Number(line.Elapsed).toFixed(3) }),
      h("td", { text: DIRECTIONS[line.Direction] || line.Direction }),
      h("td", {}, h("code", { text: line.Text }))))));
}
