"""The demos the app shows, in tab order.

Each entry is a package under `demos/` with a `specs` module (`SPECS`: the
`ModelSpec`s of its models) and a `tab` module (`build_tab(ctx)`). The title
lives here so that a demo that fails to import still gets its tab (showing
the error) under the name users know. An entry with a dot is the package's
full module path (a demo kept elsewhere, e.g. the test suite's
`tests.minimal_demo`); its tab id is the path's last part.
"""
from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from types import ModuleType

from shared.models import hub

log = logging.getLogger(__name__)

# package -> tab title, in tab order
DEMO_PACKAGES = {"voice": "Voice", "video": "Long video", "agent": "Game agent"}


def module_path(package: str) -> str:
    """`voice` -> `demos.voice`; a dotted entry is already the full path."""
    return package if "." in package else f"demos.{package}"


@dataclass
class LoadedDemo:
    package: str  # the tab id: the package's own name, without its parents
    title: str
    tab: ModuleType | None
    error: str | None = None
    model_keys: tuple[str, ...] = ()  # its models (ModelSpec keys): the System tab names them by this tab


def load_demos(packages: dict[str, str] = DEMO_PACKAGES) -> list[LoadedDemo]:
    """Import every demo and register its models.

    A demo that fails to import becomes an error tab instead of taking the
    whole app down: the other tabs keep serving.
    """
    demos = []
    for package, title in packages.items():
        module, name = module_path(package), package.rsplit(".", 1)[-1]
        try:
            specs = importlib.import_module(f"{module}.specs")
            for spec in specs.SPECS:
                hub.register(spec)
            tab = importlib.import_module(f"{module}.tab")
            demos.append(LoadedDemo(name, title, tab, model_keys=tuple(spec.key for spec in specs.SPECS)))
        except Exception as exc:  # noqa: BLE001 - shown in the UI, logged in full
            log.exception("Demo %s failed to load", package)
            demos.append(LoadedDemo(name, title, None, f"{type(exc).__name__}: {exc}"))
    return demos
