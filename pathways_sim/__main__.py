"""``python -m pathways_sim``: the same as the ``pathways-sim`` command."""

import sys

from pathways_sim.cli import main

if __name__ == "__main__":
    sys.exit(main())
