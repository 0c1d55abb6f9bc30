"""Input and output: parameter specs, uploads, media decode/encode, audio streams, text checks, outputs and sidecars, request bodies."""
