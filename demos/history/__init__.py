"""History: every result of every demo, browsable and reusable (see tab.py)."""
