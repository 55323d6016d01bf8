"""``python -m twofa_sim``: the same command line as ``twofa-sim``."""

import sys

from .io.cli import main

sys.exit(main())
