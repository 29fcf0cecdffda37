"""The lab's reference CSMS: OCPP 2.0.1 security profiles 1-3 over websockets plus a synchronous REST API.

Run it with ``python -m evcs_lab.csms --config FILE``; ``lab/README.md`` is its contract.
"""
