"""A websocket client of ``/api/events`` in its own process: ``python -m bench.watch WS_URL``.

Prints ``ready`` once connected, notes when each ``new`` event arrives (``time.monotonic``, which all processes
on the machine share), and on ``stop N`` waits until N events have arrived (at most ``GRACE`` seconds, or until
the server closes the connection), then prints ``{message id: arrival time}`` as one JSON line.
"""

from __future__ import annotations

import json
import sys
import threading
import time

import websocket

GRACE = 10.0


def main() -> None:
    """Watch until told to stop, then report arrival times."""
    connection = websocket.create_connection(sys.argv[1], timeout=30)
    arrivals: dict[str, float] = {}
    changed = threading.Condition()
    closed = threading.Event()

    def receive() -> None:
        while True:
            try:
                frame = connection.recv()
            except (websocket.WebSocketException, OSError):
                frame = ""
            arrived = time.monotonic()
            with changed:
                if not frame:  # the server closed the connection
                    closed.set()
                    changed.notify_all()
                    return
                event = json.loads(frame)
                if event.get("Type") == "new":
                    arrivals[event["Data"]["ID"]] = arrived
                    changed.notify_all()

    threading.Thread(target=receive, daemon=True).start()
    print("ready", flush=True)
    expected = int(sys.stdin.readline().split()[-1])
    with changed:
        changed.wait_for(lambda: len(arrivals) >= expected or closed.is_set(), timeout=GRACE)
        print(json.dumps(arrivals), flush=True)
    connection.close()


if __name__ == "__main__":
    main()
