"""One collection module as an ad-hoc task on the controller (``ansible localhost -m ...``) against the lab's CSMS."""

from __future__ import annotations

import json
import subprocess

from conftest import REPO_ROOT, VENV_BIN, lab_env


def csms_arguments(lab, station_id: str) -> dict:
    """The CSMS connection options of a station module, for the lab's CSMS."""
    csms = lab["csms"]
    return {"station_id": station_id, "csms_url": csms["api_url"], "csms_token": csms["api_token"],
            "csms_ca_path": csms["ca_cert"]}


def start_module(lab, module: str, arguments: dict) -> subprocess.Popen:
    """``evcs.provisioning.<module>`` with ``arguments``, started in the background (stdout and stderr together)."""
    argv = [str(VENV_BIN / "ansible"), "localhost", "-i", "localhost,", "-c", "local", "-m",
            "evcs.provisioning." + module, "-a", json.dumps(arguments)]
    return subprocess.Popen(argv, env=lab_env(lab.home), cwd=REPO_ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def run_module(lab, module: str, arguments: dict, timeout: float = 300) -> tuple[int, str]:
    """``(rc, output)`` of ``evcs.provisioning.<module>`` run to its end."""
    task = start_module(lab, module, arguments)
    output = task.communicate(timeout=timeout)[0]
    return task.returncode, output
