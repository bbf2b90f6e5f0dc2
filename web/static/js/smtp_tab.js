// The SMTP tab: how the message arrived. Envelope, TLS and AUTH facts and the session transcript (with the
// fault rules that fired), from our `/api/v1/message/{ID}/smtp` extension.

import * as api from "./api.js";
import { h, loadInto } from "./dom.js";
import { fullTime } from "./format.js";

const DIRECTIONS = { C: "client", S: "server", F: "fault" };

/** Draw the open message's envelope, SMTP facts and session transcript. */
export async function renderSmtp(viewer, panel, stillWanted) {
  const smtp = await loadInto(panel, () => api.getSmtp(viewer.message.ID), stillWanted);
  if (!smtp) return;
  const session = smtp.Session;
  const envelope = smtp.Envelope || {};
  const facts = [
    ["MAIL FROM", `<${envelope.From || ""}>`],
    ["RCPT TO", (envelope.To || []).map((r) => `<${r}>`).join(", ")],
    ["Client", smtp.Peer],
    ["HELO/EHLO", smtp.Helo],
    ["TLS", smtp.TLS ? "yes" : "no"],
    ["AUTH user", smtp.Username || "none"],
  ];
  if (session) {
    facts.push(
      ["Connected", fullTime(session.Started)],
      ["Duration", typeof session.Duration === "number" ? `${session.Duration.toFixed(3)} s` : ""],
      ["Faults fired", (session.Faults || []).join(", ") || "none"],
    );
  }
  panel.append(
    h("h3", { class: "panel-heading", text: "Envelope and session" }),
    h("dl", { class: "facts" }, facts.filter(([, value]) => value)
      .map(([term, value]) => [h("dt", { text: term }), h("dd", { text: value })])),
    h("h3", { class: "panel-heading", text: "Transcript" }),
    session
      ? transcriptTable(session.Transcript || [])
      : h("p", {
        class: "hint",
        text: smtp.SessionID
          ? "This session has left the ring of recent sessions; its transcript is no longer kept."
          : "This message did not arrive over SMTP (it came through the send API).",
      }),
  );
}

function transcriptTable(lines) {
  return h("table", { class: "transcript" },
    h("caption", { class: "visually-hidden", text: "SMTP session transcript" }),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col", text: "Time (s)" }),
      h("th", { scope: "col", text: "Who" }),
      h("th", { scope: "col", text: "Line" }))),
    h("tbody", {}, lines.map((line) => h("tr", { class: `line-${DIRECTIONS[line.Direction] || "other"}` },
      h("td", { text: Number(line.Elapsed).toFixed(3) }),
      h("td", { text: DIRECTIONS[line.Direction] || line.Direction }),
      h("td", {}, h("code", { text: line.Text }))))));
}
