"""The benchmarks: what the simulation, its widgets and its stores cost on this machine, printed as
figures and as ratios against a baseline measured in the same run (never as timed tests)."""
