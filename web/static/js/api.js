// The UI's only way to the server: the public REST API (Mailpit v1 shapes plus our extensions).
// Every call here is one a script could make with curl.

/** An API answer other than 2xx; `message` is the server's plain-text reason. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
  }
}

async function request(method, path, body) {
  const init = { method, headers: { Accept: "application/json, text/plain" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const type = response.headers.get("Content-Type") || "";
  const payload = type.includes("application/json") ? await response.json() : await response.text();
  if (!response.ok) {
    const reason = typeof payload === "string" ? payload.trim() : payload.Error || JSON.stringify(payload);
    throw new ApiError(response.status, reason);
  }
  return payload;
}

const id = (value) => encodeURIComponent(value);

/** One page of the newest-first list, or of a search when `query` is not empty. */
export function listMessages({ query = "", start = 0, limit = 50 } = {}) {
  const params = new URLSearchParams({ start: String(start), limit: String(limit) });
  if (query) {
    params.set("query", query);
    return request("GET", `/api/v1/search?${params}`);
  }
  return request("GET", `/api/v1/messages?${params}`);
}

/** The full message (this marks it read, as in Mailpit). */
export const getMessage = (messageId) => request("GET", `/api/v1/message/${id(messageId)}`);
export const getHeaders = (messageId) => request("GET", `/api/v1/message/${id(messageId)}/headers`);
export const getRaw = (messageId) => request("GET", `/api/v1/message/${id(messageId)}/raw`);
export const getLinks = (messageId) => request("GET", `/api/v1/message/${id(messageId)}/links`);
export const getSmtp = (messageId) => request("GET", `/api/v1/message/${id(messageId)}/smtp`);
export const getWebUiConfig = () => request("GET", "/api/v1/webui");

/** Set the read flag of these messages. */
export const setRead = (ids, read) => request("PUT", "/api/v1/messages", { IDs: ids, Read: read });

/** Delete these messages. */
export const deleteMessages = (ids) => request("DELETE", "/api/v1/messages", { IDs: ids });

/** Delete every message (Mailpit: a DELETE without a body). */
export const deleteAllMessages = () => request("DELETE", "/api/v1/messages");

/** Replace the tags of these messages. */
export const setTags = (ids, tags) => request("PUT", "/api/v1/tags", { IDs: ids, Tags: tags });

/** Send a stored message to the configured relay. */
export const releaseMessage = (messageId, to) =>
  request("POST", `/api/v1/message/${id(messageId)}/release`, { To: to });

export const listFaults = () => request("GET", "/api/v1/faults");
export const addFault = (rule) => request("POST", "/api/v1/faults", rule);
export const removeFault = (ruleId) => request("DELETE", `/api/v1/faults/${id(ruleId)}`);

/** URLs the page links to directly (downloads, the sandboxed preview, attachment parts). */
export const urls = {
  rawDownload: (messageId) => `/api/v1/message/${id(messageId)}/raw?dl=1`,
  part: (messageId, partId) => `/api/v1/message/${id(messageId)}/part/${id(partId)}`,
  preview: (messageId, remote) => `/view/${id(messageId)}.html${remote ? "?remote=1" : ""}`,
};
