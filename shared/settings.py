"""One Settings object from CLI flags and RELEASE_HUB_* environment variables.

Precedence: CLI flag > environment variable > default. Per-model sources come
from `RELEASE_HUB_SOURCE_<KEY>` (key upper-cased, `-` as `_`), e.g.
`RELEASE_HUB_SOURCE_HELIOS_DISTILLED=/models/helios`.
"""
from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from shared.profiles import PROFILES

ENV_PREFIX = "RELEASE_HUB_"
SOURCE_PREFIX = ENV_PREFIX + "SOURCE_"
TRUE_WORDS = ("1", "true", "yes", "on")


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "release-hub"


def source_env_name(key: str) -> str:
    return SOURCE_PREFIX + key.upper().replace("-", "_")


@dataclass
class Settings:
    tiny: bool = False
    profile: str = "auto"
    host: str = "127.0.0.1"
    port: int = 7860
    share: bool = False
    mcp: bool = False
    cache_dir: Path = field(default_factory=default_cache_dir)
    outputs_dir: Path = field(default_factory=lambda: Path("outputs"))
    # Per-model overrides: key -> Hub repo id, local directory or "tiny".
    sources: dict[str, str] = field(default_factory=dict)

    def source_override(self, key: str) -> str | None:
        """The source set for `key`, if any: an explicit override wins over --tiny."""
        if key in self.sources:
            return self.sources[key]
        return "tiny" if self.tiny else None

    @classmethod
    def from_args(cls, argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        args = build_parser(env).parse_args(argv)
        sources = {
            name[len(SOURCE_PREFIX):].lower().replace("_", "-"): value
            for name, value in env.items()
            if name.startswith(SOURCE_PREFIX) and value
        }
        for item in args.source or []:
            key, _, value = item.partition("=")
            if not key or not value:
                raise SystemExit(f"--source expects KEY=ID_OR_DIR, got {item!r}")
            sources[key.strip()] = value.strip()
        return cls(
            tiny=args.tiny,
            profile=args.profile,
            host=args.host,
            port=args.port,
            share=args.share,
            mcp=args.mcp,
            cache_dir=Path(args.cache_dir).expanduser(),
            outputs_dir=Path(args.outputs_dir).expanduser(),
            sources=sources,
        )


def _env_flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(ENV_PREFIX + name, "").strip().lower() in TRUE_WORDS


def build_parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    get = lambda name, default: env.get(ENV_PREFIX + name) or default  # noqa: E731
    parser = argparse.ArgumentParser(
        prog="release-hub",
        description="This year's open-weight releases (Voxtral TTS, Pocket TTS cloning, Helios, NitroGen) in one Gradio app.",
    )
    parser.add_argument("--tiny", action="store_true", default=_env_flag(env, "TINY"),
                        help="use tiny random checkpoints in the real layout (tests, demos without downloads) [RELEASE_HUB_TINY]")
    parser.add_argument("--profile", choices=PROFILES, default=get("PROFILE", "auto"),
                        help="memory profile; auto picks from free VRAM and host RAM [RELEASE_HUB_PROFILE]")
    parser.add_argument("--host", default=get("HOST", "127.0.0.1"), help="address to bind [RELEASE_HUB_HOST]")
    parser.add_argument("--port", type=int, default=int(get("PORT", "7860")), help="port [RELEASE_HUB_PORT]")
    parser.add_argument("--share", action="store_true", default=_env_flag(env, "SHARE"),
                        help="create a public Gradio share link [RELEASE_HUB_SHARE]")
    parser.add_argument("--mcp", action="store_true", default=_env_flag(env, "MCP"),
                        help="also serve the endpoints as MCP tools [RELEASE_HUB_MCP]")
    parser.add_argument("--cache-dir", default=get("CACHE_DIR", str(default_cache_dir())),
                        help="where tiny checkpoints and app caches live [RELEASE_HUB_CACHE_DIR]")
    parser.add_argument("--outputs-dir", default=get("OUTPUTS_DIR", "outputs"),
                        help="where generated files are saved [RELEASE_HUB_OUTPUTS_DIR]")
    parser.add_argument("--source", action="append", metavar="KEY=ID_OR_DIR",
                        help="override one model's source (repeatable) [RELEASE_HUB_SOURCE_<KEY>]")
    return parser
