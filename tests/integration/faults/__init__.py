"""Fault injection for the integration tests: a reverse proxy in front of the CSMS REST API or OpenBao."""
