"""``python -m evcs_lab.csms --config FILE``: run the reference CSMS until SIGTERM."""

from __future__ import annotations

import argparse
import asyncio

from evcs_lab.csms.app import configure_logging, run
from evcs_lab.csms.config import CsmsConfig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog='python -m evcs_lab.csms', description='the lab reference CSMS')
    parser.add_argument('--config', required=True, help='JSON configuration written by evcs-lab up')
    args = parser.parse_args(argv)
    config = CsmsConfig.load(args.config)
    configure_logging(config.log)
    asyncio.run(run(config))


if __name__ == '__main__':
    main()
