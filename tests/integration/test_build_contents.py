"""``ansible-galaxy collection build`` after a run ships no operator data (issue 17, item 7): before, a build took
the audit trail (audit/) and the commissioning reports (reports/) along."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
GALAXY = REPO_ROOT / ".venv" / "bin" / "ansible-galaxy"


def _copy_of_the_tree(target: Path) -> Path:
    """The tracked files of the working tree (what a clone has), without the collections/ self-link."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO_ROOT, capture_output=True,
                           text=True, check=True).stdout.split()
    for name in files:
        source = REPO_ROOT / name
        if name.startswith("collections/") or source.is_symlink() or not source.is_file():
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_bytes(source.read_bytes())
    return target


def test_a_build_after_a_run_holds_no_audit_reports_or_lab_files(tmp_path):
    tree = _copy_of_the_tree(tmp_path / "tree")
    # what a demo run leaves in the working tree
    (tree / "audit").mkdir()
    (tree / "audit" / "audit.jsonl").write_text('{"station": "LAB-CP-0001", "secret": "no"}\n')
    (tree / "reports").mkdir()
    (tree / "reports" / "LAB-CP-0001.md").write_text("# report\n")
    (tree / ".lab" / "vault").mkdir(parents=True)
    (tree / ".lab" / "vault" / "root-token").write_text("s.root\n")
    (tree / "factory").mkdir()
    (tree / "factory" / "LAB-CP-0009.key").write_text("-----BEGIN PRIVATE KEY-----\n")
    done = subprocess.run([str(GALAXY), "collection", "build", "--force", "--output-path", str(tmp_path / "out"), str(tree)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = (tmp_path / "out").glob("evcs-provisioning-*.tar.gz")
    names = tarfile.open(built).getnames()
    assert any(name.startswith("plugins/modules/") for name in names)
    leaked = [name for name in names if name.split("/")[0] in ("audit", "reports", ".lab", "lab")
              or name.endswith((".jsonl", ".key"))]
    assert leaked == []
