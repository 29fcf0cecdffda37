"""The lab's listening ports come from below the kernel's ephemeral range, so an outgoing connection of another
process cannot take one between the choice and the bind (two integration shards ran into that: EADDRINUSE)."""

from __future__ import annotations

import socket

from evcs_lab import process


def test_free_ports_are_below_the_ephemeral_range_distinct_and_bindable():
    ports = [process.free_port() for _ in range(20)]
    assert len(set(ports)) == len(ports)
    assert all(20000 <= port < process._ephemeral_start() for port in ports)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", ports[0]))
