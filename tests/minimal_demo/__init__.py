"""A minimal release: the worked example of docs/ARCHITECTURE.md, "Adding a release".

"Tone" turns a pitch into a short tone: a tiny torch model (`model.py`) in a
checkpoint layout of its own (`config.json` + `model.safetensors`, `checkpoint.py`),
a plain-Python engine, handlers of plain values, and a tab that only lays out
and wires. It lives under tests/ and is registered by one registry entry
(`"tests.minimal_demo": "Tone"`): tests/shared/test_adding_a_release.py checks
that the shared platform gives it everything a real demo gets.
"""
