"""A page's request, read in a kernel that Voila started before the request came.

Voila's preheated kernels run the page up to the point where it needs its request; the server
then hands the request's variables (``QUERY_STRING``, ...) over a websocket,
``/voila/query/<kernel id>``, which Voila's ``voila.utils.wait_for_request`` reads. This is the
same exchange (the same address, the same environment variables Voila sets in the kernel, the
same effect on ``os.environ``) without importing Voila's server into every kernel: that import
alone costs a trainee kernel about 48 MB, a third of it.
"""

from __future__ import annotations

import json
import os


def wait_for_request() -> None:
    """In a preheated kernel, waits until a page is served from it and puts that request's
    variables into ``os.environ``; anywhere else returns at once (the variables are already there)."""
    if os.environ.get("VOILA_PREHEAT", "False") == "False":
        return
    from websockets.exceptions import WebSocketException
    from websockets.sync.client import connect

    env = os.environ
    base = env.get("VOILA_WS_BASE_URL", env.get("VOILA_SERVER_URL", "/"))
    address = (f"{env.get('VOILA_WS_PROTOCOL', 'ws')}://{env.get('VOILA_APP_IP', '127.0.0.1')}:"
               f"{env.get('VOILA_APP_PORT', '8866')}{base}voila/query/{env['VOILA_KERNEL_ID']}")
    # no keepalive pings: on this machine's loopback a missed pong under load would close the channel
    try:  # a server busy warming other kernels may take a while to answer; without it, the defaults
        with connect(address, open_timeout=120, ping_interval=None, max_size=2**20) as channel:
            request = json.loads(channel.recv())
    except (OSError, TimeoutError, ValueError, WebSocketException):
        return  # as Voila's wait_for_request: the page goes on with what the kernel has
    os.environ.update({str(name): str(value) for name, value in request.items()})
