// The live event stream: the `/api/events` websocket, reconnected with backoff when it drops.
// Frames are Mailpit's `{"Type": ..., "Data": ...}`; handlers are registered per type.

const MAX_BACKOFF_MS = 10000;

/** Connect and dispatch each frame to `handlers[Type](Data)`; `onOpen` runs on every (re)connect, once the
 * first frame shows the subscription is live. */
export function connectEvents(handlers, { onOpen = () => {}, onClose = () => {} } = {}) {
  let backoff = 500;
  const url = new URL("/api/events", window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";

  function open() {
    const socket = new WebSocket(url);
    let subscribed = false;
    socket.addEventListener("message", (event) => {
      // The server greets each connection with a `stats` frame once it is subscribed to changes: from then
      // on no change can slip by unseen, so that (not the socket's "open") is when the page reloads its list.
      if (!subscribed) {
        subscribed = true;
        backoff = 500;
        document.documentElement.dataset.live = "connected";
        onOpen();
      }
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      const handler = handlers[frame.Type];
      if (handler) handler(frame.Data);
    });
    socket.addEventListener("close", () => {
      document.documentElement.dataset.live = "disconnected";
      onClose();
      setTimeout(open, backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    });
  }

  open();
}
