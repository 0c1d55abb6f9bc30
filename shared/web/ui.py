"""The Gradio side of the shared layer: app context, error mapping, queues.

This is the only module of `shared/` that imports gradio; engines never do.
"""
from __future__ import annotations

import functools
import json
import inspect
import logging
import os
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import gradio as gr

from shared.tasks import faults, zerogpu
from shared.models import hub
from shared.errors import ModelFilesMissing, ModelLoadError, UserInputError
from shared.models.hardware import HardwareInfo
from shared.models.profiles import PROFILES, PlacementPlan, plan_for
from shared.models.residency import ModelCache, is_out_of_memory, release_cuda_memory
from shared.web import visitors  # noqa: F401 - installs the owner hook of sidecars
from shared.web.reuse import ReuseRegistry
from shared.web.settings import Settings
from shared.tasks.load_progress import reporting_to
from shared.tasks.cancel import CancelRegistry, CancelToken, NothingKept, Progress

log = logging.getLogger("release_hub")

_event_request: ContextVar = ContextVar("release_hub_event_request")
# Output components that take files: what they are handed from the outputs dir is handed out.
FILE_COMPONENTS = (gr.Audio, gr.Video, gr.Image, gr.File, gr.Gallery, gr.DownloadButton, gr.Model3D)

# Every event that runs a model joins this one queue: one GPU, one job at a time.
GPU_QUEUE = dict(concurrency_id="gpu", concurrency_limit=1)

_LOWER_PROFILE = {"full": "16gb", "zerogpu": "16gb", "16gb": "12gb", "12gb": "8gb", "8gb": "6gb", "6gb": "cpu"}


@dataclass
class AppContext:
    settings: Settings
    hw: HardwareInfo
    profile: str
    cache: ModelCache = field(default_factory=ModelCache)
    cancels: CancelRegistry = field(default_factory=CancelRegistry)
    # Remote engines per model family ("voxtral", "pocket"): shared.remote.RemotePool, from --remote.
    remotes: dict = field(default_factory=dict)
    reuse: ReuseRegistry = field(default_factory=ReuseRegistry)  # History's "Reuse settings" targets
    main_pid: int = field(default_factory=os.getpid)  # the app's process (GPU workers are forks of it)
    zerogpu_preload: list = field(default_factory=list)  # what start-up loaded for ZeroGPU (see demos.app)
    exposure_warning: str | None = None  # an open server on the network (shared/web/access.py), shown in System

    def __post_init__(self) -> None:
        if self.profile == "zerogpu":
            self.cache.max_gpu_models = None

    @property
    def outputs_dir(self) -> Path:
        return Path(self.settings.outputs_dir)

    def plan(self, key: str) -> PlacementPlan:
        return plan_for(hub.spec_for(key).plan, self.profile, self.hw)

    def source(self, key: str) -> hub.Source:
        return hub.resolve_source(key, self.settings)

    def load(self, key: str, loader: Callable[[Path, PlacementPlan], Any], progress: Progress | None = None) -> Any:
        """The loaded model for `key`: fetch its files, apply its plan, keep it resident."""
        plan = self.plan(key)
        if self.profile == "zerogpu" and os.getpid() != self.main_pid and not self.cache.is_resident(key):
            # Inside spaces' GPU worker: a model loaded here dies with the worker.
            raise ModelLoadError(f"'{key}' was not preloaded at start-up, so this Space cannot serve it. "
                                 "The Space owner can add it to the preloaded set (see README, ZeroGPU).")

        def load_now() -> Any:
            model_dir = hub.fetch(key, self.settings, progress)
            title = hub.spec_for(key).title
            if progress:
                progress(0.0, f"Loading {title}")
            try:
                with reporting_to(progress):  # a loader may report its parts (shared/tasks/load_progress.py)
                    model = loader(model_dir, plan)
            except (ModelLoadError, UserInputError):
                raise
            except Exception as exc:
                if is_out_of_memory(exc):
                    raise
                # Whatever a broken checkpoint throws (safetensors header, json,
                # unpickling, shape mismatch) becomes one clear message.
                raise ModelLoadError(
                    f"Could not load '{key}' from {model_dir}: {type(exc).__name__}: {exc}"
                ) from exc
            if progress:
                progress(1.0, f"{title} loaded")
            return faults.arm(model, key)

        return self.cache.get(key, load_now, gpu=plan.on_gpu)

    @contextmanager
    def cancel_scope(self, request: gr.Request | None) -> Iterator[CancelToken]:
        """A cancel token for this session's run, live for the `with` block: the Stop button (`stop`) of
        the same session cancels it, and a Stop sent while this run still waited in the queue already has."""
        from gradio.context import LocalContext

        session = getattr(request, "session_hash", None)
        token = self.cancels.new(session, LocalContext.event_id.get(None))
        try:
            yield token
        finally:
            self.cancels.release(session, token)

    def stop(self, request: gr.Request) -> None:
        """Event handler for Stop buttons: cancel this session's run, or the one it has waiting in the queue."""
        session = getattr(request, "session_hash", None)
        self.cancels.cancel(session, waiting_events(session))

    def base_info(self, key: str, seed: int | None = None) -> dict:
        """The fields every `info` dict carries."""
        return {"seed": seed, "model": key, "source": self.source(key).to_dict(), "profile": self.profile}


def waiting_events(session: str | None) -> set[str]:
    """Ids of this session's events that Gradio's queue holds, queued or running, not yet finished
    (`Queue.pending_event_ids_session` and `event_ids_to_events`, gradio 6.31); empty outside an event."""
    from gradio.context import LocalContext

    blocks = LocalContext.blocks.get(None)
    queue = getattr(blocks, "_queue", None)
    if queue is None or not session:
        return set()
    ids = set(getattr(queue, "pending_event_ids_session", {}).get(session, ()))
    return {i for i in ids if i in getattr(queue, "event_ids_to_events", {})}


def out_of_memory_message(profile: str) -> str:
    lower = _LOWER_PROFILE.get(profile)
    hint = f", or restart with --profile {lower}" if lower else ""
    return f"Out of GPU memory on profile '{profile}'. Try a shorter input or fewer frames{hint}."


def log_user_error(exc: BaseException) -> None:
    """A refused input is the user's mistake, not ours: one line in the log, no traceback."""
    log.info("Refused input: %s", str(exc)[:300].replace("\n", " "))


def _to_gr_error(exc: BaseException, profile: str) -> gr.Error:
    if isinstance(exc, gr.Error):
        return exc
    if isinstance(exc, UserInputError):
        log_user_error(exc)
        return gr.Error(str(exc), print_exception=False)
    if isinstance(exc, (ModelFilesMissing, ModelLoadError)):
        log.warning("%s: %s", type(exc).__name__, exc)
        # Stays on screen until dismissed: it carries the `hf download` command to copy.
        return gr.Error(str(exc), title="The model could not be loaded", duration=None, print_exception=False)
    if is_out_of_memory(exc):
        release_cuda_memory(exc)  # the failed call's frames hold its memory until dropped
        return gr.Error(out_of_memory_message(profile), print_exception=False)
    log.exception("Unexpected error in an event handler")
    return gr.Error("Something went wrong on the server; the details are in its log.", print_exception=False)


_active_profile = {"name": "auto"}


def set_active_profile(profile: str) -> None:
    """The profile named in out-of-memory advice (set once by build_app)."""
    _active_profile["name"] = profile


def to_gradio_error(exc: BaseException) -> gr.Error:
    """`exc` as the `gr.Error` a handler raises (our message for our errors)."""
    return _to_gr_error(exc, _active_profile["name"])


def gradio_errors(fn: Callable) -> Callable:
    """Decorator for event handlers (plain or generator) mapping errors to gr.Error.

    The wrapped function keeps its signature, so API parameter names and
    docstrings (used by gradio_client and MCP) are unchanged.
    """
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen_wrapper(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except Exception as exc:
                raise _to_gr_error(exc, _active_profile["name"]) from None

        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise _to_gr_error(exc, _active_profile["name"]) from None

    return wrapper


def _unmapped(fn: Callable) -> Callable:
    """`fn` without its `gradio_errors` layer (bound again if it is a method): the status line wants our
    exception itself (a `NothingKept` is no error there), not the `gr.Error` made of it."""
    raw = getattr(fn, "__wrapped__", None)
    if raw is None:
        return fn
    return raw.__get__(fn.__self__) if inspect.ismethod(fn) else raw


def status_for(exc: BaseException, started: bool) -> tuple[str, gr.Warning | None]:
    """(status line, toast) for an exception that ends a run started from the page: our refusal in words,
    "Stopped before ..." as a plain state (no toast), anything else as the generic server message."""
    if isinstance(exc, NothingKept):
        log.info("Stopped before anything was kept: %s", exc)
        return f"**{exc}**", None
    err = _to_gr_error(exc, _active_profile["name"])  # logs as the API path does
    message = err.message if err.title in ("Error", "", None) else f"{err.title}: {err.message}"
    prefix = "**The run failed:**" if started else "**Not run:**"
    return f"{prefix} {message}", message


def on_status_line(fn: Callable, outputs: int, status: int | None = None) -> Callable:
    """The page's twin of the endpoint `fn`: same parameters, and what `fn` raises lands on the status line.

    A refusal sets the status line (output `status`; `None`: a line appended after `fn`'s `outputs`
    outputs) to "Not run: <our message>", repeats it in a toast, and leaves every other output as it was
    (`gr.skip()`: the last good result stays); Gradio sees no error, so no Error pill covers the line.
    A run Stop ended before it made anything (`NothingKept`) says so there, with no toast. The named
    endpoints keep `fn` itself, which raises `gr.Error` for API clients."""
    work = _unmapped(fn)
    width = outputs if status is not None else outputs + 1
    at = status if status is not None else outputs

    def shaped(value):  # fn's value with the appended status line left as it is
        if status is not None:
            return value
        values = list(value) if outputs > 1 else [value]
        return (*values, gr.skip())

    def failed(exc: BaseException, started: bool) -> tuple:
        line, toast = status_for(exc, started)
        if toast:
            gr.Warning(toast, duration=None if isinstance(exc, (ModelFilesMissing, ModelLoadError)) else 10)
        return tuple(line if i == at else gr.skip() for i in range(width))

    if inspect.isgeneratorfunction(work):
        @functools.wraps(fn)
        def gen_twin(*args, **kwargs):
            started = False
            try:
                for value in work(*args, **kwargs):
                    started = True
                    yield shaped(value)
            except Exception as exc:
                yield failed(exc, started)

        return _page_named(gen_twin)

    @functools.wraps(fn)
    def twin(*args, **kwargs):
        try:
            return shaped(work(*args, **kwargs))
        except Exception as exc:
            return failed(exc, False)

    return _page_named(twin)


def _page_named(twin: Callable) -> Callable:
    """Gradio names an event after its function, private ones too: the twin must not take the endpoint's name
    (which would then become "<name>_1")."""
    twin.__name__ = f"{twin.__name__}_from_page"
    twin.__qualname__ = twin.__name__
    return twin


class GuardedBlocks(gr.Blocks):
    """gr.Blocks whose events check their raw inputs before Gradio preprocesses them: file inputs
    against the upload folder (shared.io.uploads), and, for events that let Gradio preprocess, each
    number/slider/dropdown value against its control (shared.io.params), so a bad input gets our message
    naming the parameter, never a pydantic or preprocessing error."""

    async def preprocess_data(self, block_fn, inputs, state, *args, **kwargs):
        from shared.io.params import check_control_value
        from shared.io.uploads import check_event_inputs

        try:
            inputs = check_event_inputs(block_fn, inputs)
            if getattr(block_fn, "preprocess", True):
                names = list(getattr(block_fn, "input_parameter_names", None) or [])
                for index, (component, value) in enumerate(zip(block_fn.inputs, inputs)):
                    if not getattr(component, "stateful", False):
                        name = (names[index] if index < len(names) else None) or f"input {index}"
                        inputs[index] = check_control_value(component, value, name)  # "5" -> 5, "false" -> False
        except UserInputError as exc:
            log_user_error(exc)
            raise gr.Error(str(exc), print_exception=False) from None
        return await super().preprocess_data(block_fn, inputs, state, *args, **kwargs)

    # Gradio builds a FastAPI app at the end of the `with` block and again in `queue()`; `launch()` builds
    # the one that serves and replaces both. Skipping the two throwaway builds saves ~0.6 s of start-up on a
    # 2-core box (docs/BENCHMARKS.md, "App start-up"); `app.app` is then None until `launch()`.
    def __exit__(self, exc_type=None, *args):
        with self._no_throwaway_app():
            return super().__exit__(exc_type, *args)

    def queue(self, *args, **kwargs):
        with self._no_throwaway_app():
            return super().queue(*args, **kwargs)

    @contextmanager
    def _no_throwaway_app(self):
        from gradio.routes import App

        real = App.__dict__["create_app"]

        def skip_for_self(blocks, *a, **k):
            return getattr(blocks, "app", None) if blocks is self else real.__func__(blocks, *a, **k)

        App.create_app = staticmethod(skip_for_self)
        try:
            yield
        finally:
            App.create_app = real

    # Stored files leave only as owner-bound copies (shared/web/served_files.py): set by build_app.
    release_hub_outputs = None

    async def process_api(self, block_fn, inputs, state=None, request=None, *args, **kwargs):
        token = _event_request.set(request)  # postprocess_data below binds handed-out files to its owner
        try:
            return await super().process_api(block_fn, inputs, state, request, *args, **kwargs)
        finally:
            _event_request.reset(token)

    async def postprocess_data(self, block_fn, predictions, state):
        if self.release_hub_outputs is not None:
            predictions = self._hand_out_stored_files(block_fn, predictions)
        return await super().postprocess_data(block_fn, predictions, state)

    def _hand_out_stored_files(self, block_fn, predictions):
        from shared.web.visitors import file_owner

        outputs = list(block_fn.outputs)
        single = len(outputs) == 1 and not block_fn.batch
        values = [predictions] if single else predictions
        if not isinstance(values, (list, tuple)):
            return predictions  # a dict keyed by component, or a skip(): nothing of ours in it
        request = _event_request.get(None)
        owner = file_owner(request[0] if isinstance(request, list) and request else request)
        replaced = [self.release_hub_outputs.replace(value, owner) if isinstance(component, FILE_COMPONENTS)
                    else value for component, value in zip(outputs, values)] + list(values[len(outputs):])
        return replaced[0] if single else type(values)(replaced) if isinstance(values, tuple) else replaced


def gradio_progress(progress: gr.Progress | None) -> Progress:
    """Adapt a `gr.Progress` to the engines' `(fraction, description)` callable."""
    if progress is None:
        return lambda fraction, description="": None
    return lambda fraction, description="": progress(min(max(fraction, 0.0), 1.0), desc=description)


def random_seed() -> int:
    import secrets

    return secrets.randbelow(2**31 - 1)


def resolve_seed(seed: float | int | None) -> int:
    """-1 (any negative), None or an empty box mean "pick one"; else a whole number below 2**63
    (shared.io.params.SEED: 'abc', NaN and 3.5 get a message naming `seed`)."""
    from shared.io.params import SEED

    return SEED.check(seed)


class Timer:
    """Wall-clock timings for `info` dicts: `with timer("load"): ...`."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.started = time.perf_counter()

    def elapsed(self) -> float:
        """Seconds since the timer was made (the request's wall time so far)."""
        return round(time.perf_counter() - self.started, 2)

    def __call__(self, name: str):
        timer = self

        class _Span:
            def __enter__(self):
                self.start = time.perf_counter()

            def __exit__(self, *exc):
                timer.seconds[name] = round(time.perf_counter() - self.start, 4)

        return _Span()


def lock_while_running(button: gr.Button, busy_label: str = "Running…") -> Callable[[Any], tuple]:
    """Grey out `button` (relabelled `busy_label`) from its click until the run it starts ends in
    any way (done, stopped, error): a second click is then visibly impossible instead of silently
    dropped, and a queued run shows its queue position where its progress shows.

    Call it *before* registering the run's click (the browser runs a trigger's listeners in the
    order they were added), then pass the run's event to the function it returns:
    `release = lock_while_running(run, "Generating…"); release(run.click(...))`."""
    idle_label = button.value
    hidden = dict(queue=False, show_progress="hidden", api_visibility="private")
    # Greyed out in the browser itself, at once: a server round trip could land after a run that
    # failed fast, and leave the button disabled for good.
    busy = json.dumps({"__type__": "update", "interactive": False, "value": busy_label})
    button.click(None, None, button, js=f"() => ({busy})", **hidden)

    def release(event) -> tuple:
        """Returns the two idle events (after a run, after an error), for a tab to chain more onto."""
        idle = lambda: gr.update(interactive=True, value=idle_label)  # noqa: E731
        after_run = event.then(idle, None, button, **hidden)
        after_error = event.failure(idle, None, button, **hidden)  # Gradio skips `then` after an error
        return after_run, after_error

    return release


def refresh_on_load(component, fn: Callable[[], Any], timer: "gr.Timer | None" = None):
    """Fill `component` from `fn()` at every page load (and timer tick) through private events.
    (A callable `value=` would do the same but publish an unnamed `/lambda_N` API endpoint.)"""
    from gradio.context import Context

    hidden = dict(api_visibility="private", queue=False, show_progress="hidden")
    Context.root_block.load(fn, None, component, **hidden)
    if timer is not None:
        timer.tick(fn, None, component, **hidden)
    return component


def readiness_markdown(ctx: AppContext, keys: list[str]) -> Callable[[], str]:
    """A gr.Markdown value read at each page load: for each model, are its weights here and does
    the active profile's plan fit this machine (else which profile would)."""
    from shared.models.readiness import readiness_line

    return lambda: "  \n".join(readiness_line(k, ctx.settings, ctx.profile, ctx.hw) for k in keys)


def stopped_line(seconds: float | None, kept: str) -> str:
    """The plain words a tab shows after Stop: 'Stopped after 4.2 s. Kept: ...'."""
    after = f" after {seconds:.1f} s" if seconds is not None else ""
    return f"**Stopped{after}.** {kept}"


__all__ = [
    "AppContext", "GPU_QUEUE", "GuardedBlocks", "PROFILES", "Timer", "gradio_errors", "gradio_progress",
    "lock_while_running", "on_status_line", "readiness_markdown", "refresh_on_load", "stopped_line",
    "out_of_memory_message", "random_seed", "resolve_seed", "set_active_profile",
]


zerogpu.set_error_mapping(to_gradio_error)  # inside spaces' worker, our errors leave as gr.Error
