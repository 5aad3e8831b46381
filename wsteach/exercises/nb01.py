"""Checks for the exercises of notebook 01_http_before_websocket."""

from __future__ import annotations

from wsteach.exercises.checking import NotYet, passed, require_answer


def check_handshake_count(packets, answer: object) -> None:
    """How many TCP three-way handshakes does a capture hold?"""
    require_answer(answer)
    flags = [packet.getlayer("TCP").flags for packet in packets if packet.haslayer("TCP")]
    syn = sum(1 for flag in flags if flag.S and not flag.A)
    requests = sum(1 for packet in packets if packet.haslayer("TCP")
                   and bytes(packet.getlayer("TCP").payload).startswith(b"GET "))
    if answer == 2 * syn:
        raise NotYet("That counts the SYN-ACKs too. Each handshake has one SYN (flags S) and one "
                     "SYN-ACK (flags SA): count only packets with S set and A not set.")
    if answer == requests and requests != syn:
        raise NotYet(f"{answer} is the number of requests. A keep-alive connection carries "
                     "several requests after one handshake: count the SYN packets instead.")
    if answer != syn:
        raise NotYet(f"{answer} is not it. A handshake starts with a packet whose TCP flags are "
                     "exactly 'S': count those (packet[TCP].flags.S and not packet[TCP].flags.A).")
    passed(f"{syn} handshakes for {requests} requests: HTTP/1.0 pays one per request, "
            "keep-alive one per connection.")


def check_round_trips(requests: int, answer: object) -> None:
    """Round trips for ``requests`` requests made one after the
    other, as (HTTP/1.0 with a connection each, HTTP/1.1 on one keep-alive connection)."""
    require_answer(answer)
    if not (isinstance(answer, tuple) and len(answer) == 2):
        raise NotYet("Answer with a pair: (round trips over HTTP/1.0, round trips keep-alive).")
    old, kept = answer
    if old == requests:
        raise NotYet("Over HTTP/1.0 every request first opens a TCP connection: one round trip "
                     "for SYN / SYN-ACK, then one for the request and its response.")
    if kept == requests:
        raise NotYet("The keep-alive connection still has to be opened once: add the handshake.")
    if kept == 2 * requests:
        raise NotYet("Keep-alive pays the handshake once, not once per request.")
    if (old, kept) != (2 * requests, requests + 1):
        raise NotYet("Count, for each request, the round trips before its response arrives: the "
                     "TCP handshake (when a connection is new) and the request/response itself.")
    passed(f"{2 * requests} round trips against {requests + 1}: with 50 ms per round trip, "
            f"{100 * requests} ms against {50 * (requests + 1)} ms.")

