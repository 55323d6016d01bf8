"""ipywidgets front ends: one-way adapters that call one domain method per action and re-render
from domain state. Notebooks only import from here."""
