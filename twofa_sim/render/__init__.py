"""Renderings of domain state for people: diagrams drawn from the transition table."""
