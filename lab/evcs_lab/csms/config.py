"""The CSMS configuration file (JSON, written by the lab CLI)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

PROFILES = (1, 2, 3)


@dataclass(frozen=True)
class TlsConfig:
    cert: str
    key: str
    chain: str | None = None


@dataclass(frozen=True)
class CrlConfig:
    url: str | None = None
    ca_cert: str | None = None
    refresh_seconds: float = 5.0


@dataclass(frozen=True)
class CsmsConfig:
    host: str
    api_port: int
    ws_ports: dict[int, int]
    tls: TlsConfig
    client_ca: str
    api_token: str
    staging_password: str
    db: str
    log: str
    #: one CRL per issuing CA of ``client_ca`` (the config file may give one as ``crl`` or several as ``crls``)
    crls: tuple[CrlConfig, ...] = ()
    heartbeat_interval: int = 60
    boot_retry_interval: int = 5
    call_timeout: float = 30.0

    @classmethod
    def load(cls, path: str | Path) -> CsmsConfig:
        data = json.loads(Path(path).read_text(encoding='utf-8'))
        ws_ports = {int(profile): int(port) for profile, port in data['ws_ports'].items()}
        unknown = set(ws_ports) - set(PROFILES)
        if unknown:
            raise ValueError('ws_ports names unknown security profiles %s: use 1, 2 and 3' % sorted(unknown))
        return cls(
            host=data.get('host', '127.0.0.1'),
            api_port=int(data['api_port']),
            ws_ports=ws_ports,
            tls=TlsConfig(**data['tls']),
            client_ca=data['client_ca'],
            api_token=data['api_token'],
            staging_password=data['staging_password'],
            db=data['db'],
            log=data['log'],
            crls=tuple(CrlConfig(**crl) for crl in (data.get('crls') or ([data['crl']] if data.get('crl') else []))),
            heartbeat_interval=int(data.get('heartbeat_interval', 60)),
            boot_retry_interval=int(data.get('boot_retry_interval', 5)),
            call_timeout=float(data.get('call_timeout', 30)),
        )
