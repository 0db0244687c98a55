"""Shared start-up for the scripts the rules run: logging, and clean failures."""
from __future__ import annotations

import logging
import sys


def main(body) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    from edbench.data.catalog import DataUnavailable
    from edbench.data.idx import IdxFormatError
    from edbench.methods.base import ConfigError

    try:
        body()
    except (ConfigError, DataUnavailable, IdxFormatError) as error:
        logging.getLogger("edbench").error("%s", error)
        sys.exit(2)
