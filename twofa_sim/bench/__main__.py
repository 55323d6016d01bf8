"""``python -m twofa_sim.bench``: the engines' benchmark (``make bench``)."""

from .engines import main

raise SystemExit(main())
