"""Derive the lab's EVerest-like station model from the public EVerest libocpp device-model configuration.

    python -m evcs_lab.simulator.everest_import <libocpp>/config/v2/component_config [commit]

reads the component definitions (`standardized/*.json`: the OCPP controllers; `custom/EVSE_1.json`,
`custom/Connector_1_1.json`: the per-EVSE and per-connector variables) and writes
`models/everest.json` beside this file: one row per variable (component, variable, instance, data type,
mutability, factory value, valuesList, unit, limits). The JSON files are read as data; nothing of libocpp's code is
used. The collection's model file `station_models/everest.yml` is written from the same rows by `--collection`.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

OUT = Path(__file__).parent / "models" / "everest.json"
COLLECTION_MODEL = Path(__file__).resolve().parents[3] / "station_models" / "everest.yml"
#: the collection model's own part (what the libocpp files do not say)
MODEL_HEADER = """\
# Station model: OCPP 2.0.1 stations running EVerest (libocpp). Such stations report their maker's vendor and model
# name, so select this file with evcs_station.station_model (or the site's evcs_site.station_model): everest.
# `variables` is derived from the public EVerest libocpp device-model configuration by
# lab/evcs_lab/simulator/everest_import.py (source below); what else is here follows from it:
# - slots 1-2 (NetworkConfigurationPriority valuesList "1,2");
# - OCPPCommCtrlr.MessageTimeout is ReadOnly: it comes from the network connection profile (messageTimeout);
# - ClockCtrlr.NtpServerUri is one variable, without instances;
# - the network interface is chosen by the connection profile (InternalCtrlr.IFace is ReadOnly); addressing, DNS
#   and Wi-Fi are host settings of the Linux system, not device-model variables: this model maps none of them;
# - the SIM's ICCID is InternalCtrlr.ICCID.
name: everest
description: EVerest (libocpp) based station; device model of libocpp's component configuration
source: "{source}"
match: []
slots: [1, 2]
ntp:
  instances: false
network:
  settings:
    iccid: {{component: {{name: InternalCtrlr}}, variable: ICCID, read_only: true}}
"""

def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _rows(document: dict, scope: str) -> list[dict]:
    rows = []
    for definition in document["properties"].values():
        actual = next((a for a in definition.get("attributes", []) if a.get("type", "Actual") == "Actual"), None)
        if actual is None:
            continue
        characteristics = definition.get("characteristics") or {}
        value = actual.get("value", definition.get("default"))
        row = {
            "component": document["name"],
            "variable": definition["variable_name"],
            "instance": definition.get("instance"),
            "scope": scope,
            "data_type": characteristics.get("dataType", "string"),
            "mutability": actual.get("mutability", "ReadWrite"),
            "value": _text(value),
            "values_list": characteristics.get("valuesList"),
            "unit": characteristics.get("unit"),
            "min_limit": characteristics.get("minLimit", definition.get("minimum")),
            "max_limit": characteristics.get("maxLimit", definition.get("maximum")),
        }
        rows.append({key: item for key, item in row.items() if item is not None})
    return rows


def derive(config: Path, commit: str) -> dict:
    rows = []
    for path in sorted((config / "standardized").glob("*.json")):
        rows += _rows(json.loads(path.read_text()), "station")
    rows += _rows(json.loads((config / "custom" / "EVSE_1.json").read_text()), "evse")
    rows += _rows(json.loads((config / "custom" / "Connector_1_1.json").read_text()), "connector")
    return {"source": f"EVerest/libocpp config/v2/component_config at {commit} (Apache-2.0)", "variables": rows}


def collection_model(document: dict) -> str:
    """The collection's model file: the header above, then one capability entry per variable (values lists as lists)."""
    keys = ("component", "variable", "instance", "mutability", "data_type", "values_list", "unit", "min_limit",
            "max_limit")
    seen, entries = set(), []
    for row in document["variables"]:
        entry = {key: row[key] for key in keys if row.get(key) is not None}
        if "values_list" in entry:
            entry["values_list"] = entry["values_list"].split(",")
        marker = (entry["component"], entry["variable"], entry.get("instance"))
        if marker not in seen:
            seen.add(marker)
            entries.append(entry)
    lines = ["variables:"]
    for entry in entries:
        values = entry.pop("values_list", None)
        flow = "  - " + yaml.safe_dump(entry, default_flow_style=True, sort_keys=False, width=1000).strip()
        if values is None and len(flow) <= 150:
            lines.append(flow)
            continue
        block = yaml.safe_dump(entry, default_flow_style=False, sort_keys=False, width=1000).strip().splitlines()
        lines += ["  - " + block[0]] + ["    " + line for line in block[1:]]
        if values is not None:
            lines += ["    values_list:"] + ["      - " + yaml.safe_dump(value).strip().removesuffix("...").strip()
                                             for value in values]
    return MODEL_HEADER.format(source=document["source"]) + "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    config = Path(argv[0])
    commit = argv[1] if len(argv) > 1 else "unknown commit"
    document = derive(config, commit)
    OUT.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    COLLECTION_MODEL.write_text(collection_model(document))
    print(f"{len(document['variables'])} variables -> {OUT}, {COLLECTION_MODEL}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
