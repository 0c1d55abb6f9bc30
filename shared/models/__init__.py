"""Model lifecycle: sources and downloads, model files, hardware, memory profiles and plans, offload and disk offload, residency, readiness."""
