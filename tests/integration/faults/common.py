"""What every fault test does: a two-station inventory on a fault lab, runs, and the convergence check."""

from __future__ import annotations

from faults.lab import changed, endpoints, failed_stations, run, station, write_inventory

PROVISION = "playbooks/provision.yml"


class Fleet:
    """Stations of one test module on a fault lab, provisioned through the lab's fault proxies."""

    def __init__(self, lab, directory, ids, tags=None, env=None):
        self.lab = lab
        self.ids = list(ids)
        self.tags = tags
        self.env = dict(env or {})
        self.inventory = write_inventory(directory, {sid: station(sid) for sid in self.ids},
                                         **endpoints(lab, lab.csms_proxy.url, lab.vault_proxy.url))

    def provision(self, env=None, extra_vars=None):
        """``(rc, output, recap, failures)`` of provision.yml over this fleet."""
        rc, output, recap = run(self.lab, PROVISION, self.inventory, tags=self.tags, env=dict(self.env, **(env or {})),
                                extra_vars=extra_vars)
        return rc, output, recap, failed_stations(output)

    def converges(self, repaired, extra_vars=None):
        """After a fault is cleared: a run that changes ``repaired`` (and nothing else), then a run with changed=0."""
        rc, output, recap, failures = self.provision(extra_vars=extra_vars)
        assert rc == 0 and not failures, output[-5000:]
        counts = changed(recap)
        assert all(counts[sid] > 0 for sid in repaired), counts
        assert all(counts[sid] == 0 for sid in self.ids if sid not in repaired), (counts, output[-5000:])
        rc, output, recap, failures = self.provision(extra_vars=extra_vars)
        assert rc == 0 and not failures, output[-5000:]
        assert set(changed(recap).values()) == {0}, (changed(recap), output[-5000:])


def assert_only_failed(failures: dict, station_id: str, *fragments: str) -> str:
    """``station_id`` failed (and no other station) with a message holding every fragment; returns the message."""
    assert list(failures) == [station_id], failures
    message = failures[station_id]
    for fragment in fragments:
        assert fragment in message, message
    return message
