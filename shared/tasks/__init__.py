"""The GPU-task platform: progress and cancel, GPU tasks for local and ZeroGPU, queue jobs, fault injection."""
