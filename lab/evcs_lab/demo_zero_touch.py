"""`make demo-zero-touch`: start the lab, run the zero-touch rulebook, plug in a factory-fresh charger (the
simulator adds it: it boots Pending, unknown to the CSMS) and print its timeline until it is commissioned. Nobody runs
a playbook: the rulebook does, on the station's BootNotification.

The demo's work files (inventory, rulebook log, audit trail, reports) are kept in $EVCS_LAB_HOME/zero-touch-demo.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

from evcs_lab import paths
from evcs_lab.clients import LabState
from evcs_lab.zero_touch import Rulebook, audit_runs, commissioned, moment, station_vars, timeline, write_inventory

TIMEOUT = 600


def _say(text: str) -> None:
    print(text, flush=True)


def main() -> int:
    home = paths.lab_home()
    _say('==> lab (evcs-lab up)')
    if subprocess.run([sys.executable, '-m', 'evcs_lab.cli', 'up'], cwd=paths.REPO_ROOT, check=False).returncode != 0:
        return 1
    lab = LabState.load(home)
    station_id = 'ZT-DEMO-%s' % uuid.uuid4().hex[:4].upper()
    serial = 'SN-%s' % station_id
    work = Path(home) / 'zero-touch-demo'
    inventory = write_inventory(work / 'inventory', {station_id: station_vars(station_id, serial, 3)})
    _say('==> the installer\'s work order is in the inventory: %s (serial %s, security profile 3) in %s'
         % (station_id, serial, inventory))
    with Rulebook(home, inventory, work) as rulebook:
        _say('==> ansible-rulebook runs extensions/eda/rulebooks/zero_touch.yml (log: %s)' % rulebook.log)
        cursor = lab.csms.events('now')['cursor']
        _say('==> plugging in %s: factory-fresh, unknown to the CSMS' % station_id)
        lab.sim.add([station_id])
        deadline = time.monotonic() + TIMEOUT
        shown = 0
        events = []
        done = None
        while time.monotonic() < deadline:
            answer = lab.csms.events(cursor, timeout=2)
            cursor = answer['cursor']
            events += answer['items']
            lines = timeline(events, station_id)
            for at, what in lines[shown:]:
                _say('  %s  %s' % (at, what))
            shown = len(lines)
            done = commissioned(work / 'reports').get(station_id)
            if done:
                break
            if rulebook.process.poll() is not None:
                _say(rulebook.output()[-4000:])
                return 1
        if not done:
            _say('not commissioned within %ss: see %s' % (TIMEOUT, rulebook.log))
            return 1
        finished = time.time()
    boots = [event for event in events if event['station_id'] == station_id and event['type'] == 'boot']
    runs = [run for run in audit_runs(work / 'audit.jsonl') if run.get('limit') == station_id]
    _say('  %s  commissioning report %s: passed' % (time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(finished)),
                                                    done['report_file']))
    _say('==> %s commissioned %.1f s after its first BootNotification; playbook runs: %s'
         % (station_id, finished - moment(boots[0]['at']).timestamp(),
            ', '.join('%s by "%s"' % (Path(run['playbook']).name, run['actor']) for run in runs)))
    _say('    audit trail %s, reports %s' % (work / 'audit.jsonl', work / 'reports'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
