"""The evcs.provisioning lab: OpenBao PKI, reference CSMS and charger simulator on loopback."""

__version__ = "0.1.0"
