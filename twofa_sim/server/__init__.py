"""The class server: Voila serving class mode's two pages to a whole class at once, with kernels
warm before the class arrives, bounded and freed, and reachable only from the page that started
them (``make class``, ``python -m twofa_sim.server``). Kernels import :mod:`.request` only, so
nothing here imports Voila until the server itself starts (:mod:`.app`)."""
