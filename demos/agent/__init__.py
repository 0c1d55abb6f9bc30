"""Game agent demo: NVIDIA NitroGen (one game frame -> 18 gamepad actions), our own implementation."""
