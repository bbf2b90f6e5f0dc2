// The Faults panel: the SMTP fault rules in force, with add and remove. It speaks `/api/v1/faults`, the same
// rule model as the CLI's `--fault` and the pytest plugin's `mailtrap.faults`.

import * as api from "./api.js";
import { byId, h, replaceChildren, toast } from "./dom.js";

export class FaultsPanel {
  constructor() {
    this.rules = [];
    this.dialog = byId("faults-dialog");
    this.list = byId("fault-list");
    this.form = byId("fault-form");
    this.error = byId("fault-error");
    this.count = byId("faults-count");
    byId("faults-button").addEventListener("click", () => this.open());
    this.form.addEventListener("submit", (event) => this.add(event));
    byId("fault-action").addEventListener("change", () => this.showActionFields());
    this.showActionFields();
  }

  open() {
    this.error.textContent = "";
    this.dialog.showModal();
    this.load();
  }

  /** After an SMTP session the counters may have moved: refresh them while the panel is open. */
  sessionEnded() {
    if (this.dialog.open) this.load();
  }

  /** Fetch the rules (also called when a `faults` event says they changed). */
  async load() {
    try {
      const answer = await api.listFaults();
      this.rules = Array.isArray(answer) ? answer : answer.Rules || answer.rules || [];
    } catch (error) {
      this.error.textContent = `Could not load the rules: ${error.message}`;
      return;
    }
    this.render();
  }

  render() {
    this.count.textContent = this.rules.length ? String(this.rules.length) : "";
    byId("faults-button").setAttribute("aria-label",
      this.rules.length ? `Faults (${this.rules.length} active)` : "Faults (none active)");
    if (this.rules.length === 0) {
      replaceChildren(this.list, h("li", { class: "hint", text: "No rules: every SMTP command succeeds." }));
      return;
    }
    replaceChildren(this.list, this.rules.map((rule) => {
      const summary = describe(rule);
      return h("li", { class: "fault-rule", "data-id": rule.id },
        h("code", { text: summary }),
        h("span", { class: "hint", text: usage(rule) }),
        h("button", {
          type: "button",
          class: "button danger",
          "aria-label": `Remove rule ${rule.id}: ${summary}`,
          onclick: () => this.remove(rule.id),
        }, "Remove"));
    }));
  }

  showActionFields() {
    const action = byId("fault-action").value;
    for (const field of this.form.querySelectorAll("[data-for-action]")) {
      field.hidden = field.dataset.forAction !== action;
    }
  }

  async add(event) {
    event.preventDefault();
    this.error.textContent = "";
    const form = new FormData(this.form);
    const text = String(form.get("rule") || "").trim();
    try {
      await api.addFault(text ? { rule: text } : ruleFromForm(form));
    } catch (error) {
      this.error.textContent = error.message;
      return;
    }
    byId("fault-rule-text").value = "";
    toast("Fault rule added");
    this.load();
  }

  async remove(ruleId) {
    try {
      await api.removeFault(ruleId);
    } catch (error) {
      toast(`Removing the rule failed: ${error.message}`, "error");
    }
    this.load();
  }
}

/** The JSON rule for `POST /api/v1/faults` from the add form (blank optional fields are left out). */
export function ruleFromForm(form) {
  const rule = { stage: form.get("stage"), action: form.get("action") };
  if (rule.action === "reply") {
    rule.code = Number(form.get("code"));
    if (form.get("text").trim()) rule.text = form.get("text").trim();
  }
  if (rule.action === "delay") rule.seconds = Number(form.get("seconds"));
  for (const key of ["sender", "recipient"]) {
    const value = form.get(key).trim();
    if (value) rule[key] = value;
  }
  rule.times = Number(form.get("times") || 0);
  return rule;
}

/** One line saying what a rule does: its CLI form (what `--fault` would take), else a summary of its fields. */
function describe(rule) {
  if (rule.rule) return rule.rule;
  const what = { reply: `${rule.code} ${rule.text || ""}`, delay: `delay ${rule.seconds}s` }[rule.action] || rule.action;
  return `${rule.stage}: ${what}`.trim();
}

/** How often the rule fires and how often it has. */
function usage(rule) {
  const budget = rule.probability != null
    ? `with probability ${rule.probability}`
    : rule.times === 0 ? "every time" : `${rule.times} time(s)`;
  return `${budget}; fired ${rule.fired ?? 0}`;
}
