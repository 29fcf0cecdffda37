"""examples/gitops works as shipped: an inventory repository laid out as its README says runs the pipeline's commands,
read from github-actions.yml, in the pipeline's order against the lab: install (the collection from a built tarball,
the documented alternative to the git URL), plan, apply, plan again, nightly.

The lab stands in for the "test" environment: the repository's inventories/test is the lab's inventory with its
secrets read from the environment variables the pipeline sets (EVCS_VAULT_ROLE_ID, EVCS_VAULT_SECRET_ID,
EVCS_CSMS_TOKEN), as inventories/test and inventories/production of the collection read them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import REPO_ROOT, VENV_BIN, lab_env, parse_recap  # noqa: E402
from security_helpers import add_stations  # noqa: E402

EXAMPLE = REPO_ROOT / "examples" / "gitops"
LAB = REPO_ROOT / "inventories" / "lab"
STATIONS = {"GITOPS-CP-0001": "LAB-CP-0001", "GITOPS-CP-0002": "LAB-CP-0002"}
WORKFLOW = yaml.safe_load((EXAMPLE / "github-actions.yml").read_text())
_SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")


def test_third_party_actions_are_pinned_by_commit():
    uses = [step["uses"] for job in WORKFLOW["jobs"].values() for step in job["steps"] if "uses" in step]
    assert uses and all(_SHA_PIN.match(action) for action in uses), uses


def test_plan_jobs_hold_no_write_credentials_and_production_is_protected():
    assert WORKFLOW["jobs"]["plan"]["environment"] == "${{ matrix.environment }}-plan"
    assert WORKFLOW["jobs"]["apply-production"]["environment"] == "production"
    assert WORKFLOW["jobs"]["apply-production"]["needs"] == "apply-test"
    for name, job in WORKFLOW["jobs"].items():
        environment = str(job.get("environment"))
        assert name == "apply-production" or "production" not in environment, (name, environment)


def test_the_readme_names_every_command_the_pipeline_runs():
    readme = (EXAMPLE / "README.md").read_text()
    for job in WORKFLOW["jobs"].values():
        for step in job["steps"]:
            for command in re.findall(r"ci/fleet \w+", step.get("run", "")):
                assert f"`{command}" in readme, command


def _secret_values(lab) -> dict:
    return {"EVCS_VAULT_ROLE_ID": lab["vault"]["role_id"], "EVCS_VAULT_SECRET_ID": lab["vault"]["secret_id"],
            "EVCS_CSMS_TOKEN": lab["csms"]["api_token"], "ANSIBLE_VAULT_PASSWORD": ""}


def _expand(text: str, secrets: dict, environment: str) -> str:
    """GitHub's ${{ }} expressions of the example, as the runner would evaluate them for this job."""
    text = re.sub(r"\$\{\{\s*secrets\.(\w+)\s*\}\}", lambda m: secrets[m.group(1)], str(text))
    text = text.replace("${{ matrix.environment }}", environment)
    text = text.replace("${{ vars.EVCS_BATCH_SIZE || '25%' }}", "25%")
    text = text.replace("${{ matrix.environment == 'production' }}", str(environment == "production").lower())
    assert "${{" not in text, text
    return text


def _repository(lab, directory: Path) -> Path:
    """The inventory repository as examples/gitops/README.md lays it out, with the lab as its "test" environment."""
    repo = directory / "fleet-inventory"
    (repo / ".github" / "workflows").mkdir(parents=True)
    shutil.copy(EXAMPLE / "github-actions.yml", repo / ".github" / "workflows" / "fleet.yml")
    (repo / "ci").mkdir()
    shutil.copy2(EXAMPLE / "fleet", repo / "ci" / "fleet")
    shutil.copy2(EXAMPLE / "vault-password", repo / "ci" / "vault-password")
    shutil.copy(EXAMPLE / "ansible.cfg", repo / "ansible.cfg")
    shutil.copy(REPO_ROOT / "requirements.txt", repo / "requirements.txt")
    # the collection as a built tarball, the alternative collections/requirements.yml documents to the git URL
    subprocess.run([str(VENV_BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(directory), "--force",
                    str(REPO_ROOT)], check=True, capture_output=True, timeout=300)
    tarball = next(directory.glob("evcs-provisioning-*.tar.gz"))
    shipped = (REPO_ROOT / "collections" / "requirements.yml").read_text()
    assert "type: git" in shipped and f"# - name: ./{tarball.name}" in shipped, shipped
    shutil.copy(tarball, repo / tarball.name)
    (repo / "collections").mkdir()
    (repo / "collections" / "requirements.yml").write_text(yaml.safe_dump(
        {"collections": [{"name": f"./{tarball.name}", "type": "file"}]}))
    # inventories/test: the lab, its secrets from the pipeline's environment variables
    inventory = repo / "inventories" / "test"
    shutil.copytree(LAB / "group_vars" / "all", inventory / "group_vars" / "all")
    shutil.copy(LAB / "group_vars" / "lab_depot.yml", inventory / "group_vars" / "lab_depot.yml")
    lab_vars = inventory / "group_vars" / "all" / "lab.yml"
    text = lab_vars.read_text()
    for old, variable in (('"{{ evcs_lab_state.csms.api_token }}"', "EVCS_CSMS_TOKEN"),
                          ('"{{ evcs_lab_state.vault.role_id }}"', "EVCS_VAULT_ROLE_ID"),
                          ('"{{ evcs_lab_state.vault.secret_id }}"', "EVCS_VAULT_SECRET_ID")):
        assert old in text, old
        text = text.replace(old, "\"{{ lookup('ansible.builtin.env', '%s') }}\"" % variable)
    lab_vars.write_text(text)
    (inventory / "host_vars").mkdir()
    for station_id, hardware in STATIONS.items():
        station = yaml.safe_load((LAB / "host_vars" / f"{hardware}.yml").read_text())["evcs_station"]
        station.update(id=station_id, serial_number="SN-" + station_id)
        # the pipeline's stations are the simulator's default model, whatever the lab station lent its hardware
        station.update(vendor="EVCS Sim", model="SimCharger AC22", firmware_version="1.0.0")
        station.pop("station_model", None)
        (inventory / "host_vars" / f"{station_id}.yml").write_text(yaml.safe_dump({"evcs_station": station}))
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"all": {"vars": {"ansible_connection": "local"}, "children": {
        "lab_depot": {"hosts": {station_id: None for station_id in STATIONS}}}}}))
    return repo


def _job(lab, repo: Path, name: str, environment: str = "test") -> list[tuple[str, int, str]]:
    """Every `run` step of the job, in order, in the repository root with the step's env: ``[(command, rc, output)]``."""
    secrets = _secret_values(lab)
    base = lab_env(lab.home)
    for key in ("ANSIBLE_CONFIG", "EVCS_REPORT_DIR", "EVCS_AUDIT_FILE"):
        base.pop(key, None)
    base.update(GITHUB_RUN_ID="4242", GITHUB_RUN_ATTEMPT="1", GITHUB_ACTOR="gitops-test", CI="true")
    ran = []
    for step in WORKFLOW["jobs"][name]["steps"]:
        if "run" not in step:
            continue
        command = _expand(step["run"], secrets, environment)
        env = dict(base, **{key: _expand(value, secrets, environment) for key, value in (step.get("env") or {}).items()})
        done = subprocess.run(["bash", "-c", command], cwd=repo, env=env, capture_output=True, text=True, timeout=1800,
                              check=False)
        ran.append((command, done.returncode, done.stdout + done.stderr))
        assert done.returncode == 0, f"{name}: {command} exited {done.returncode}\n{(done.stdout + done.stderr)[-4000:]}"
    return ran


def _recap(output: str) -> dict:
    return parse_recap(output[output.rindex("PLAY RECAP"):])


def test_pipeline_plan_apply_plan_nightly_against_the_lab(lab, tmp_path):
    add_stations(lab, list(STATIONS))
    repo = _repository(lab, tmp_path)

    plan = _job(lab, repo, "plan")
    assert [command for command, _rc, _out in plan] == ["pip install -r requirements.txt && ci/fleet install",
                                                         "ci/fleet plan test"]
    assert (repo / "collections" / "ansible_collections" / "evcs" / "provisioning" / "galaxy.yml").exists() or \
        (repo / "collections" / "ansible_collections" / "evcs" / "provisioning" / "MANIFEST.json").exists()
    planned = plan[-1][2]
    assert "ansible-playbook -i inventories/test evcs.provisioning.provision --check --diff" in planned
    assert "stations: 2 targeted, 2 provisioned, 2 changed, 0 failed" in planned, planned[-3000:]
    assert "checked after the apply GITOPS-CP-0001" in planned, planned[-3000:]

    apply = _job(lab, repo, "apply-test")
    applied = apply[-1][2]
    assert "stations: 2 targeted, 2 provisioned, 2 changed, 0 failed" in applied, applied[-3000:]
    for station_id in STATIONS:
        assert lab.csms.connection(station_id)["security_profile"] == 3

    again = _job(lab, repo, "plan")[-1][2]
    assert "stations: 2 targeted, 2 provisioned, 0 changed, 0 failed" in again, again[-3000:]
    assert all(counts["changed"] == 0 for counts in _recap(again).values()), again[-3000:]

    nightly = _job(lab, repo, "nightly")[-1][2]
    assert "evcs.provisioning.renew_certificates" in nightly and "2 station(s) checked, 0 drifted or failed" in nightly, \
        nightly[-3000:]
    page = (repo / "reports" / "fleet-verify.html").read_text()
    assert "GITOPS-CP-0001" in page and "GITOPS-CP-0002" in page
    assert (repo / "audit" / "audit.jsonl").stat().st_size > 0
    everything = "".join(output for _command, _rc, output in plan + apply) + again + nightly
    everything += (repo / "audit" / "audit.jsonl").read_text() + page
    leaked = [name for name, value in _secret_values(lab).items() if value and value in everything]
    assert leaked == [], leaked
    assert os.access(repo / "ci" / "fleet", os.X_OK)
