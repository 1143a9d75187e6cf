"""``python -m vitegraph`` (and ``torchrun ... -m vitegraph run config.yaml``)."""

import sys

from .cli.main import main

sys.exit(main())
