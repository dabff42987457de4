"""Serve htma or ingredient with uvicorn on a listening socket inherited from the demo.

    python tools/demo_serve.py htma FD

``tools/demo.py`` binds both services' ports before it starts either (each one's settings
name the other's URL) and passes each socket's descriptor to its server, so no port is
free between its choice and its use. The app is the service's own ``create_app()`` with
settings from the environment, as ``htma serve`` / ``ingredient serve`` run it.
"""

from __future__ import annotations

import importlib
import socket
import sys

import uvicorn

SERVICES = ("htma", "ingredient")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] not in SERVICES or not args[1].isdigit():
        sys.exit(f"usage: demo_serve.py {{{','.join(SERVICES)}}} FD")
    create_app = importlib.import_module(f"{args[0]}.app").create_app
    listener = socket.socket(fileno=int(args[1]))  # family and type read from the socket
    uvicorn.Server(uvicorn.Config(create_app())).run(sockets=[listener])


if __name__ == "__main__":
    main()
