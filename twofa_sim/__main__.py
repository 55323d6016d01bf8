"""``python -m twofa_sim``: the same command line as ``twofa-sim``."""

import sys

from .cli import main

sys.exit(main())
