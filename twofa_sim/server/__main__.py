"""``python -m twofa_sim.server notebooks/class``: the class server (``make class`` runs it)."""

from .app import main

main()
