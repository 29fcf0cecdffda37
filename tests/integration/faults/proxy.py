"""A fault-injecting HTTPS reverse proxy for the integration tests.

Put it in front of the reference CSMS REST API or OpenBao and point ``evcs_csms.url`` / ``evcs_vault.url`` at
``proxy.url``. It presents the upstream's own server certificate (the lab's certificates name 127.0.0.1), so the
collection verifies it with the same CA path as the real endpoint. Every connection is closed after one answer, so a
``refuse()`` takes effect at once.

Modes, combinable; rules match a regular expression on the request path (``None``: every request) and apply to the
next ``count`` matching requests (``None``: until ``clear()``):
- pass: forward unchanged (no rule matches);
- ``refuse()``: close the listening port (connection refused) until ``resume()``;
- ``fail(status, count, path)``: answer ``status`` without forwarding;
- ``delay(seconds, count, path)``: wait, then forward;
- ``before(callback, count, path)``: call ``callback()`` (for example: seal Vault), then forward.
``log`` records ``(method, path, status)`` of every request answered (status 0: dropped by a delay).
"""

from __future__ import annotations

import json
import re
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

import requests

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-encoding", "content-length", "host",
               "proxy-connection", "te", "trailer", "upgrade"}
_UPSTREAM_TIMEOUT = 120


@dataclass
class _Rule:
    pattern: re.Pattern | None
    remaining: int | None
    status: int | None = None
    seconds: float = 0.0
    callback: Callable[[], None] | None = None

    def take(self, path: str) -> bool:
        """True when the rule applies to ``path``; counts it down."""
        if self.remaining == 0 or (self.pattern is not None and not self.pattern.search(path)):
            return False
        if self.remaining is not None:
            self.remaining -= 1
        return True


class _TlsServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, handler, context: ssl.SSLContext, proxy: "FaultProxy"):
        self.context = context
        self.proxy = proxy
        super().__init__(address, handler)

    def finish_request(self, request, client_address):
        # the TLS handshake runs in the request's thread, so a slow client never blocks accept()
        try:
            request = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        super().finish_request(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server: _TlsServer

    def log_message(self, format, *args):  # noqa: A002 - BaseHTTPRequestHandler's signature
        return

    def _relay(self):
        proxy = self.server.proxy
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        rule = proxy.rule_for(self.path)
        if rule is not None and rule.callback is not None:
            rule.callback()
        if rule is not None and rule.seconds:
            time.sleep(rule.seconds)
        if rule is not None and rule.status is not None:
            self._answer(rule.status, {}, json.dumps({
                "error": "injected_fault", "message": f"fault proxy answered {rule.status}",
                "errors": [f"fault proxy answered {rule.status}"]}).encode())
            return
        headers = {key: value for key, value in self.headers.items() if key.lower() not in _HOP_BY_HOP}
        try:
            answer = proxy.session.request(self.command, proxy.upstream + self.path, headers=headers, data=body or None,
                                           timeout=_UPSTREAM_TIMEOUT, verify=proxy.upstream_ca, allow_redirects=False)
        except requests.RequestException as exc:
            self._answer(502, {}, json.dumps({"error": "bad_gateway", "message": str(exc), "errors": [str(exc)]}).encode())
            return
        self._answer(answer.status_code, answer.headers, answer.content)

    def _answer(self, status, headers, content):
        try:
            self.send_response(status)
            for key, value in headers.items():
                if key.lower() not in _HOP_BY_HOP:
                    self.send_header(key, value)
            self.send_header("Content-Type", headers.get("Content-Type", "application/json"))
            self.send_header("Content-Length", str(len(content)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(content)
            status_logged = status
        except OSError:  # the client gave up (its timeout) while we were delaying
            status_logged = 0
        self.server.proxy.log.append((self.command, self.path, status_logged))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _relay  # noqa: N815


class FaultProxy:
    """``FaultProxy(upstream, certfile, keyfile, upstream_ca)``; ``start()`` picks a free loopback port."""

    def __init__(self, upstream: str, certfile, keyfile, upstream_ca, host: str = "127.0.0.1"):
        self.upstream = upstream.rstrip("/")
        self.upstream_ca = str(upstream_ca)
        self.host = host
        self.port = 0
        self.session = requests.Session()
        self.log: list[tuple[str, str, int]] = []
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(str(certfile), str(keyfile))
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()
        self._server: _TlsServer | None = None

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> "FaultProxy":
        self._server = _TlsServer((self.host, self.port), _Handler, self._context, self)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- modes ---------------------------------------------------------------------------------------------
    def refuse(self) -> None:
        """Close the port: clients get 'connection refused' until ``resume()``."""
        self.stop()

    def resume(self) -> None:
        """Listen again on the same port."""
        if self._server is None:
            self.start()

    def fail(self, status: int, count: int | None = None, path: str | None = None) -> None:
        self._add(_Rule(_compile(path), count, status=status))

    def delay(self, seconds: float, count: int | None = None, path: str | None = None) -> None:
        self._add(_Rule(_compile(path), count, seconds=seconds))

    def before(self, callback: Callable[[], None], count: int | None = 1, path: str | None = None) -> None:
        self._add(_Rule(_compile(path), count, callback=callback))

    def clear(self) -> None:
        """Back to pass-through (the request log is kept)."""
        with self._lock:
            self._rules.clear()

    def rule_for(self, path: str) -> _Rule | None:
        with self._lock:
            return next((rule for rule in self._rules if rule.take(path)), None)

    def _add(self, rule: _Rule) -> None:
        with self._lock:
            self._rules.append(rule)

    # -- inspection ----------------------------------------------------------------------------------------
    def answered(self, path: str, status: int | None = None) -> list[tuple[str, str, int]]:
        """Logged requests whose path matches ``path`` (and whose status is ``status``)."""
        pattern = re.compile(path)
        return [entry for entry in self.log if pattern.search(entry[1]) and (status is None or entry[2] == status)]


def _compile(path: str | None) -> re.Pattern | None:
    return re.compile(path) if path else None
