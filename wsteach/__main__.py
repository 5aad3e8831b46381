"""Command line: ``python -m wsteach echo --host 127.0.0.1 --port 9001``.

``echo`` runs an echo server on this package's own implementation (for students, and for the
Autobahn conformance cases). ``capture --out data/captures`` regenerates the stored pcaps
(needs root or cap_net_raw). ``socketio --port P [--news-interval S]`` runs the Socket.IO news
feed of notebook 09 on the package's own small Socket.IO server (page at ``/``). ``chat --port
8765`` runs the live chat of notebook 10 on loopback; ``chat --class`` is the classroom mode:
all interfaces, and a join code.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import secrets
from pathlib import Path

from wsteach import aio


def loopback_host(host: str) -> str:
    """The series only ever listens on loopback: refuse any other address."""
    if host == "localhost" or ipaddress.ip_address(host).is_loopback:
        return host
    raise argparse.ArgumentTypeError(f"{host} is not a loopback address (use 127.0.0.1 or ::1)")


def seconds_or_none(text: str) -> float | None:
    """A number of seconds (> 0), or "none" to turn a timer off."""
    if text.lower() == "none":
        return None
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of seconds")
    return value


JOIN_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


async def echo(ws: aio.WebSocket) -> None:
    """Send every message back as it came: text as text, binary as binary."""
    async for message in ws:
        await ws.send(message)


async def run_echo(host: str, port: int, max_size: int, ping_interval: float | None,
                   ping_timeout: float | None) -> None:
    async with aio.serve(echo, host, port, max_size=max_size, ping_interval=ping_interval,
                         ping_timeout=ping_timeout) as server:
        print(f"echo server on ws://{host}:{server.port}/ (Ctrl+C stops it)", flush=True)
        await server.serve_forever()


async def run_socketio(host: str, port: int, news_interval: float | None) -> None:
    from wsteach.socketio import newsfeed

    async with newsfeed.news_feed(news_interval).serve(host, port) as server:
        print(f"Socket.IO news feed on http://{host}:{server.port}/ (the page) and "
              f"ws://{host}:{server.port}/socket.io/ (Ctrl+C stops it)", flush=True)
        await server.serve_forever()


async def run_chat(host: str, port: int, classroom: bool, history: int) -> None:
    from wsteach.chat import origins, server

    join_code = "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(6)) if classroom \
        else None
    room = await server.serve_chat(host, port, history=history, join_code=join_code)
    try:
        if classroom:
            print(f"Class mode: join code {join_code}. Students open one of:", flush=True)
            for name in origins.hosts_for(host):
                print(f"    http://{name}:{room.port}/?code={join_code}", flush=True)
            print("Anyone on this network who has the code can join. Ctrl+C stops it.",
                  flush=True)
        else:
            print(f"chat on {room.url} (WebSocket at {room.ws_url}); Ctrl+C stops it",
                  flush=True)
        await asyncio.Future()
    finally:
        await room.close()


async def run_capture(out: Path, only: list[str]) -> None:
    from wsteach.wire import scenarios  # scapy is imported only for this command

    for recording in await scenarios.record_all(out, only):
        print(f"{recording.path}: {recording.packets} packets, {recording.size} bytes, "
              f"captured in {recording.seconds:.2f} s", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m wsteach", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    echo_parser = commands.add_parser("echo", help="run an echo server on loopback")
    echo_parser.add_argument("--host", type=loopback_host, default="127.0.0.1")
    echo_parser.add_argument("--port", type=int, default=9001, help="0 picks a free port")
    echo_parser.add_argument("--max-size", type=int, default=16 * 2**20,
                             help="largest message accepted, in bytes (default 16 MiB)")
    echo_parser.add_argument("--ping-interval", type=seconds_or_none, default=20,
                             help="seconds between keepalive pings; 'none' turns them off "
                                  "(default 20)")
    echo_parser.add_argument("--ping-timeout", type=seconds_or_none, default=20,
                             help="seconds to wait for a pong before closing with 1011; 'none' "
                                  "waits forever (default 20)")
    socketio_parser = commands.add_parser("socketio", help="run the Socket.IO news feed")
    socketio_parser.add_argument("--host", type=loopback_host, default="127.0.0.1")
    socketio_parser.add_argument("--port", type=int, default=4001, help="0 picks a free port")
    socketio_parser.add_argument("--news-interval", type=float, default=None, metavar="S",
                                 help="seconds between news (default: random, 2 to 7 s)")
    capture_parser = commands.add_parser("capture", help="regenerate the stored pcaps")
    capture_parser.add_argument("--out", type=Path, default=Path("data/captures"))
    capture_parser.add_argument("--only", nargs="+", default=[], metavar="NAME",
                                help="regenerate only these captures (e.g. websocket_session)")
    chat_parser = commands.add_parser("chat", help="run the live chat (page at /, WebSocket "
                                      "at /ws)")
    chat_parser.add_argument("--host", help="default 127.0.0.1; with --class, all interfaces")
    chat_parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    chat_parser.add_argument("--class", dest="classroom", action="store_true",
                             help="classroom mode: listen on all interfaces (unless --host "
                                  "says otherwise) and require a join code")
    chat_parser.add_argument("--history", type=int, default=100,
                             help="messages kept for newcomers and for resuming (default 100)")
    args = parser.parse_args(argv)
    if args.command == "chat":
        if args.host is None:
            args.host = "0.0.0.0" if args.classroom else "127.0.0.1"
        elif not args.classroom:
            try:
                loopback_host(args.host)
            except (argparse.ArgumentTypeError, ValueError) as error:
                chat_parser.error(f"{error}; other addresses only with --class")
    with contextlib.suppress(KeyboardInterrupt):
        if args.command == "echo":
            asyncio.run(run_echo(args.host, args.port, args.max_size, args.ping_interval,
                                 args.ping_timeout))
        elif args.command == "socketio":
            asyncio.run(run_socketio(args.host, args.port, args.news_interval))
        elif args.command == "chat":
            asyncio.run(run_chat(args.host, args.port, args.classroom, args.history))
        else:
            asyncio.run(run_capture(args.out, args.only))


if __name__ == "__main__":
    main()
