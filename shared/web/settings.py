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

from shared.models.profiles import PROFILES

ENV_PREFIX = "RELEASE_HUB_"
SOURCE_PREFIX = ENV_PREFIX + "SOURCE_"
REMOTE_PREFIX = ENV_PREFIX + "REMOTE_"  # RELEASE_HUB_REMOTE_VOXTRAL=http://a:8000,http://b:8000
REMOTE_NAMES = ("voxtral", "pocket")
TRUE_WORDS = ("1", "true", "yes", "on")


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "release-hub"


DATA_MOUNT = Path("/data")  # where a Space mounts its persistent volume (a Storage Bucket)
DATA_OUTPUTS = Path("release-hub/outputs")


def default_outputs_dir(mount: Path = DATA_MOUNT) -> Path:
    """`/data/release-hub/outputs` when `/data` is a writable mount (a Space volume), else `./outputs`."""
    try:
        if os.path.ismount(mount) and os.access(mount, os.W_OK):
            return mount / DATA_OUTPUTS
    except OSError:
        pass
    return Path("outputs")


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
    mcp_admin: bool = False  # also offer the MCP tools that delete results or unload models
    cache_dir: Path = field(default_factory=default_cache_dir)
    outputs_dir: Path = field(default_factory=default_outputs_dir)
    # History: disk limit of the outputs dir (None: 10 % of the free space, at least 2 GB),
    # one history for every visitor instead of one per signed-in user / visit,
    # and a file of `user:password` lines for Gradio logins (self-hosting, tests).
    outputs_max_gb: float | None = None
    shared_history: bool = False
    auth_file: Path | None = None
    on_space: bool = False
    # Per-model overrides: key -> Hub repo id, local directory or "tiny".
    sources: dict[str, str] = field(default_factory=dict)
    # Remote engines: model family ("voxtral", "pocket") -> base URLs of /v1/audio/speech servers.
    remotes: dict[str, list[str]] = field(default_factory=dict)

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
        remotes = parse_remotes(env, args.remote or [])
        return cls(
            tiny=args.tiny,
            profile=args.profile,
            host=args.host,
            port=args.port,
            share=args.share,
            mcp=args.mcp,
            mcp_admin=args.mcp_admin,
            cache_dir=Path(args.cache_dir).expanduser(),
            outputs_dir=Path(args.outputs_dir).expanduser(),
            sources=sources,
            remotes=remotes,
            outputs_max_gb=args.outputs_max_gb,
            shared_history=args.shared_history,
            auth_file=Path(args.auth_file).expanduser() if args.auth_file else None,
            on_space=bool(env.get("SPACE_ID")),
        )


def parse_remotes(env: Mapping[str, str], flags: Sequence[str]) -> dict[str, list[str]]:
    """`RELEASE_HUB_REMOTE_<NAME>` and `--remote NAME=URL[,URL]`; flags for a family replace its variable."""
    def urls_of(name: str, value: str) -> list[str]:
        urls = [u.strip() for u in value.split(",") if u.strip()]
        bad = [u for u in urls if not u.startswith(("http://", "https://"))]
        if bad:
            raise SystemExit(f"remote {name}: URLs must start with http:// or https:// (got {bad[0][:80]!r})")
        return urls

    from_env = {
        name[len(REMOTE_PREFIX):].lower(): urls_of(name, value)
        for name, value in env.items()
        if name.startswith(REMOTE_PREFIX) and name[len(REMOTE_PREFIX):].lower() in REMOTE_NAMES and value.strip()
    }
    from_flags: dict[str, list[str]] = {}
    for item in flags:
        name, _, value = item.partition("=")
        name = name.strip().lower()
        if name not in REMOTE_NAMES or not value.strip():
            raise SystemExit(f"--remote expects NAME=URL[,URL] with NAME one of {', '.join(REMOTE_NAMES)}; got {item[:80]!r}")
        from_flags.setdefault(name, []).extend(urls_of(name, value))
    merged = {**from_env, **from_flags}
    return {name: list(dict.fromkeys(urls)) for name, urls in merged.items() if urls}


def _env_flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(ENV_PREFIX + name, "").strip().lower() in TRUE_WORDS


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected a number of GB, got {str(text)[:20]!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {value:g}")
    return value


def read_auth_file(path: Path) -> list[tuple[str, str]]:
    """`user:password` lines (blank lines and `#` comments skipped) as Gradio's `auth=` list."""
    logins = []
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, password = line.partition(":")
        if not sep or not user.strip() or not password:
            raise SystemExit(f"{path}:{number}: expected user:password")
        logins.append((user.strip(), password))
    if not logins:
        raise SystemExit(f"{path}: no user:password line")
    return logins


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
                        help="also serve the app as MCP tools for AI agents at /gradio_api/mcp/ [RELEASE_HUB_MCP]")
    parser.add_argument("--mcp-admin", action="store_true", default=_env_flag(env, "MCP_ADMIN"),
                        help="with --mcp, also offer the tools that delete results or unload models "
                             "(delete_result, set_result_favourite, unload_models) [RELEASE_HUB_MCP_ADMIN]")
    parser.add_argument("--cache-dir", default=get("CACHE_DIR", str(default_cache_dir())),
                        help="where tiny checkpoints and app caches live [RELEASE_HUB_CACHE_DIR]")
    parser.add_argument("--outputs-dir", default=get("OUTPUTS_DIR", str(default_outputs_dir())),
                        help="where generated files are saved; /data/release-hub/outputs when /data is a "
                             "writable mount (a Space volume), else ./outputs [RELEASE_HUB_OUTPUTS_DIR]")
    parser.add_argument("--outputs-max-gb", type=_positive_float, default=get("OUTPUTS_MAX_GB", None),
                        help="disk limit of the outputs dir: the oldest non-favourite results go first "
                             "(default: 10%% of the free space, at least 2 GB) [RELEASE_HUB_OUTPUTS_MAX_GB]")
    parser.add_argument("--shared-history", action="store_true", default=_env_flag(env, "SHARED_HISTORY"),
                        help="every visitor sees every result in History (default on a Space: each signed-in "
                             "user their own, anonymous visitors their current visit's) [RELEASE_HUB_SHARED_HISTORY]")
    parser.add_argument("--auth-file", default=get("AUTH_FILE", None),
                        help="require a Gradio login; the file holds one user:password per line [RELEASE_HUB_AUTH_FILE]")
    parser.add_argument("--remote", action="append", metavar="NAME=URL[,URL]",
                        help="serve a model family (voxtral, pocket) from remote /v1/audio/speech servers, "
                             "round-robin with failover (repeatable) [RELEASE_HUB_REMOTE_<NAME>]")
    parser.add_argument("--source", action="append", metavar="KEY=ID_OR_DIR",
                        help="override one model's source (repeatable) [RELEASE_HUB_SOURCE_<KEY>]")
    return parser
