"""The CSMS dynamic inventory's grouping of station records."""

from __future__ import annotations

from ansible_collections.evcs.provisioning.plugins.inventory import csms


def test_station_groups_by_location_and_status():
    assert csms.station_groups({'id': 'CP-1', 'location_id': 'lab-depot', 'status': 'active'}) == [
        'location_lab_depot', 'status_active']
    assert csms.station_groups({'id': 'CP-2'}) == ['status_unknown']
