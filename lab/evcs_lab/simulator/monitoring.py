"""Variable monitoring reports and clearing (OCPP 2.0.1 N02, N04), as a station answers them.

GetMonitoringReport answers EmptyResultSet when there is no monitor, else Accepted and then sends the monitors in
NotifyMonitoringReport parts of ``MonitoringCtrlr.ItemsPerMessage[GetMonitoringReport]`` components each (tbc on all
but the last). ClearVariableMonitoring answers per id: Accepted, NotFound, or Rejected for the station's own
(hard-wired or preconfigured) monitors, which a monitor marks with ``"origin": "HardWired"``.
"""
from __future__ import annotations

from ocpp.routing import after, on
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action

from .device_model import now_rfc3339

#: components per NotifyMonitoringReport when the station's model does not say
DEFAULT_PART_SIZE = 4


def _grouped(monitors: list[dict]) -> list[dict]:
    """MonitoringDataType entries: one per component and variable, with its monitors."""
    groups: dict = {}
    for monitor in sorted(monitors, key=lambda item: item["id"]):
        key = (repr(sorted(monitor["component"].items())), repr(sorted(monitor["variable"].items())))
        entry = groups.setdefault(key, {"component": monitor["component"], "variable": monitor["variable"],
                                        "variableMonitoring": []})
        entry["variableMonitoring"].append({"id": monitor["id"], "transaction": monitor["transaction"],
                                            "value": monitor["value"], "type": monitor["type"],
                                            "severity": monitor["severity"]})
    return list(groups.values())


class MonitoringHandlers:
    """Mixed into the station's OCPP handlers (``handlers.StationProtocol``)."""

    @on(Action.get_monitoring_report)
    def on_get_monitoring_report(self, request_id: int, **_):
        status = "Accepted" if self.state.monitors else "EmptyResultSet"
        return call_result.GetMonitoringReport(status=status)

    @after(Action.get_monitoring_report)
    async def after_get_monitoring_report(self, request_id: int, **_):
        groups = _grouped(self.state.monitors)
        if not groups:
            return
        size = int(self.state.value("MonitoringCtrlr", "ItemsPerMessage", "GetMonitoringReport") or DEFAULT_PART_SIZE)
        parts = [groups[start:start + size] for start in range(0, len(groups), size)]
        generated_at = now_rfc3339()
        for seq_no, part in enumerate(parts):
            await self.call(call.NotifyMonitoringReport(request_id=request_id, seq_no=seq_no, generated_at=generated_at,
                                                        monitor=part, tbc=seq_no < len(parts) - 1))

    @on(Action.clear_variable_monitoring)
    def on_clear_variable_monitoring(self, id: list, **_):  # noqa: A002 (schema name)
        by_id = {monitor["id"]: monitor for monitor in self.state.monitors}
        results = []
        for monitor_id in id:
            monitor = by_id.get(monitor_id)
            if monitor is None:
                results.append({"id": monitor_id, "status": "NotFound"})
            elif monitor.get("origin") == "HardWired":
                results.append({"id": monitor_id, "status": "Rejected"})
            else:
                results.append({"id": monitor_id, "status": "Accepted"})
                self.state.monitors = [item for item in self.state.monitors if item["id"] != monitor_id]
        self.state.save()
        return call_result.ClearVariableMonitoring(clear_monitoring_result=results)
