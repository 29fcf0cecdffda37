"""`python -m evcs_lab.simulator --config FILE`."""
from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from .app import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="evcs_lab.simulator", description="OCPP 2.0.1 charger simulator")
    parser.add_argument("--config", required=True, type=Path, help="simulator config (JSON)")
    args = parser.parse_args(argv)
    asyncio.run(serve(json.loads(args.config.read_text())))


if __name__ == "__main__":
    main()
