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

OUT = Path(__file__).parent / "models" / "everest.json"


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


def main(argv: list[str]) -> int:
    config = Path(argv[0])
    commit = argv[1] if len(argv) > 1 else "unknown commit"
    document = derive(config, commit)
    OUT.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    print(f"{len(document['variables'])} variables -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
