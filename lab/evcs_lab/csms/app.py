"""Wires the store, the OCPP endpoints and the REST API into one asyncio process; stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

from aiohttp import web

from evcs_lab.csms.api import build_app
from evcs_lab.csms.auth import BasicAuthenticator, CertificateAuthenticator, server_tls_context
from evcs_lab.csms.config import PROFILES, CsmsConfig
from evcs_lab.csms.hub import StationHub
from evcs_lab.csms.ocpp_server import OcppEndpoint
from evcs_lab.csms.store import Store

LOG = logging.getLogger('evcs_lab.csms')


def configure_logging(log_path: str) -> None:
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_path, encoding='utf-8')
    handler.setFormatter(logging.Formatter('%(asctime)s %(levelname)s %(name)s: %(message)s'))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for noisy in ('websockets', 'aiohttp.access', 'ocpp'):
        logging.getLogger(noisy).setLevel(logging.WARNING)


async def run(config: CsmsConfig) -> None:
    store = Store(config.db)
    hub = StationHub(config, store)
    basic = BasicAuthenticator(store, config.staging_password)
    certificates = CertificateAuthenticator(config.client_ca, list(config.crls))
    endpoints = [OcppEndpoint(profile, config, hub, basic, certificates)
                 for profile in PROFILES if profile in config.ws_ports]
    runner = web.AppRunner(build_app(hub, config.api_token), access_log=None)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    try:
        await runner.setup()
        await web.TCPSite(runner, config.host, config.api_port, ssl_context=server_tls_context(config)).start()
        LOG.info('REST API listening at https://%s:%d', config.host, config.api_port)
        for endpoint in endpoints:
            await endpoint.start()
        await stopping.wait()
        LOG.info('stopping')
    finally:
        for endpoint in endpoints:
            await endpoint.stop()
        await runner.cleanup()
        store.close()
        LOG.info('stopped')
