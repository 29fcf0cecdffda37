"""Charger simulator: many OCPP 2.0.1 charging stations in one asyncio process (see lab/README.md)."""
