"""Where the lab keeps its state: everything lives under ``$EVCS_LAB_HOME`` (default ``<repo>/.lab``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_STATIONS_FILE = REPO_ROOT / "lab" / "stations.yml"


def lab_home(explicit: str | os.PathLike | None = None) -> Path:
    """The lab home: ``explicit`` (``--home``), else ``$EVCS_LAB_HOME``, else ``<repo>/.lab``."""
    chosen = explicit or os.environ.get("EVCS_LAB_HOME") or REPO_ROOT / ".lab"
    return Path(chosen).expanduser().resolve()


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by the owner only (0600), never world-readable in between."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


@dataclass(frozen=True)
class CsmsTlsFiles:
    """The TLS files of one environment's CSMS: server leaf + issuing CA, its key, the chain, the client CA bundle."""

    cert: Path
    key: Path
    chain: Path
    client_ca: Path


@dataclass(frozen=True)
class LabPaths:
    """Every file of one lab home."""

    home: Path

    @classmethod
    def resolve(cls, explicit: str | os.PathLike | None = None) -> "LabPaths":
        return cls(lab_home(explicit))

    # -- state -------------------------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.home / "state.json"

    @property
    def secrets_file(self) -> Path:
        """Lab-generated secrets kept across ``up`` runs (CSMS API token, staging password)."""
        return self.home / "secrets.json"

    # -- bootstrap TLS (OpenBao listener) ------------------------------------------------------------
    @property
    def tls_dir(self) -> Path:
        return self.home / "tls"

    @property
    def bootstrap_ca(self) -> Path:
        return self.tls_dir / "bootstrap-ca.pem"

    @property
    def bootstrap_ca_key(self) -> Path:
        return self.tls_dir / "bootstrap-ca.key"

    @property
    def vault_listener_cert(self) -> Path:
        return self.tls_dir / "vault.pem"

    @property
    def vault_listener_key(self) -> Path:
        return self.tls_dir / "vault.key"

    # -- OpenBao -----------------------------------------------------------------------------------
    @property
    def vault_dir(self) -> Path:
        return self.home / "vault"

    @property
    def vault_data(self) -> Path:
        return self.vault_dir / "data"

    @property
    def vault_config(self) -> Path:
        return self.vault_dir / "config.hcl"

    @property
    def vault_settings(self) -> Path:
        """Port and address chosen at the first ``up`` (kept so PKI URLs stay valid across restarts)."""
        return self.vault_dir / "listener.json"

    @property
    def unseal_key(self) -> Path:
        return self.vault_dir / "unseal-key"

    @property
    def root_token(self) -> Path:
        return self.vault_dir / "root-token"

    @property
    def approle_secret_id(self) -> Path:
        return self.vault_dir / "approle-secret-id"

    @property
    def provisioning_token(self) -> Path:
        return self.vault_dir / "provisioning-token"

    # -- lab PKI files for the CSMS ----------------------------------------------------------------
    @property
    def pki_dir(self) -> Path:
        return self.home / "pki"

    @property
    def root_ca(self) -> Path:
        return self.pki_dir / "root-ca.pem"

    @property
    def client_ca(self) -> Path:
        return self.pki_dir / "client-ca.pem"

    @property
    def csms_cert(self) -> Path:
        return self.pki_dir / "csms-server.pem"

    @property
    def csms_key(self) -> Path:
        return self.pki_dir / "csms-server.key"

    @property
    def csms_chain(self) -> Path:
        return self.pki_dir / "csms-server-chain.pem"

    def csms_tls(self, environment: str = "lab") -> CsmsTlsFiles:
        """The lab environment's files above, or those of another environment under ``pki/<environment>/``."""
        if environment == "lab":
            return CsmsTlsFiles(self.csms_cert, self.csms_key, self.csms_chain, self.client_ca)
        folder = self.pki_dir / environment
        return CsmsTlsFiles(folder / "csms-server.pem", folder / "csms-server.key", folder / "csms-server-chain.pem",
                            folder / "client-ca.pem")

    # -- components ----------------------------------------------------------------------------------
    def component_dir(self, component: str) -> Path:
        return self.home / component

    def config_file(self, component: str) -> Path:
        return self.component_dir(component) / "config.json"

    def pid_file(self, component: str) -> Path:
        return self.component_dir(component) / f"{component}.pid"

    def log_file(self, component: str) -> Path:
        return self.component_dir(component) / f"{component}.log"

    def console_file(self, component: str) -> Path:
        """Where a component's stdout and stderr go (its own log is ``log_file``)."""
        return self.component_dir(component) / f"{component}.out"

    @property
    def csms_db(self) -> Path:
        return self.component_dir("csms") / "csms.sqlite3"

    @property
    def simulator_state_dir(self) -> Path:
        return self.component_dir("simulator") / "stations"
