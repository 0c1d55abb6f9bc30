"""release-hub's shared layer: settings, hardware, profiles, model sources,
offloading, residency, ZeroGPU and media utilities. Never imports `demos`."""
