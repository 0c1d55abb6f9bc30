"""Functions whose module is imported at their first call, not when they are named.

Building the page must not import the model libraries (torch, transformers, diffusers: seconds
of start-up, tests/shared/test_startup_imports.py), yet the specs registered at start name the
functions that write tiny checkpoints. Like transformers' and diffusers' lazy modules, the
import happens where the code is first used.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OnFirstCall:
    """Stands for the function `target` ("package.module:function"): a call imports the module
    (once: Python keeps it in sys.modules) and forwards its arguments. Pickles as its name."""

    target: str

    def __post_init__(self) -> None:
        module, _, name = self.target.partition(":")
        if not module or not name:
            raise ValueError(f"expected 'package.module:function', got {self.target!r}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)(*args, **kwargs)
