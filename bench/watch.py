"""A websocket client of ``/api/events`` in its own process: ``python -m bench.watch WS_URL``.

Prints ``ready`` once connected, notes when each ``new`` event arrives (``time.monotonic``, which all processes
on the machine share), and on ``stop`` (or end of input) prints ``{message id: arrival time}`` as one JSON line.
"""

from __future__ import annotations

import json
import sys
import threading
import time

import websocket


def main() -> None:
    """Watch until told to stop, then report arrival times."""
    connection = websocket.create_connection(sys.argv[1], timeout=30)
    arrivals: dict[str, float] = {}

    def receive() -> None:
        while True:
            try:
                frame = connection.recv()
            except (websocket.WebSocketException, OSError):
                return
            arrived = time.monotonic()
            if not frame:  # the server closed the connection
                return
            event = json.loads(frame)
            if event.get("Type") == "new":
                arrivals[event["Data"]["ID"]] = arrived

    threading.Thread(target=receive, daemon=True).start()
    print("ready", flush=True)
    sys.stdin.readline()
    print(json.dumps(arrivals), flush=True)
    connection.close()


if __name__ == "__main__":
    main()
