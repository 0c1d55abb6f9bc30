"""Our own PyTorch implementation of Voxtral-4B-TTS-2603 (model, checkpoint I/O, engine)."""
