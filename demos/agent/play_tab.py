"""The Play section of the Game agent tab: NitroGen plays ViZDoom (Freedoom) live, closed loop.

Public API (names are a contract):
  /agent_play (game, scenario, seed, mode, max_seconds)
      streaming: live frames (gamepad overlay), status, per chunk {chunk, actions, stats};
      last: the final record, the episode's mp4 and its actions JSON
  /agent_play_episode (same inputs) -> final record, mp4, actions JSON (no streaming, no pacing)
"""
from __future__ import annotations

import gradio as gr

from shared.web.cached_images import image_file
from shared.web.ui import gradio_errors, lock_while_running, on_status_line

from .play.catalog import ATARI_NOTE, GAMES
from .play.mapping import MAPPINGS, STICK_DEAD_ZONE
from .play.specs import GAME, MAX_SECONDS, MODE, SCENARIO
from .play_handlers import INPUT_NAMES, PlayHandlers

PLAY_INTRO = """**NitroGen plays Doom on the server**, move by move, then a random player plays the same level so the
scores compare."""

# Folded under "How Play works": the loop in detail, for a person who wants to read the numbers closely.
PLAY_DETAILS = """The latest frame goes through the same engine and preprocessing as **Frame**; its 18 actions (0.3 seconds
at 60 a second) drive the game through the mapping below, resampled onto Doom's 35 tics a second. The random player
uses the same mapping and limits.
- **Lockstep** (default): the game waits for each chunk, which is right on any hardware. Where the model is slower
  than real time (a CPU) the game plays slower, and the line above the game says how much.
- **Real time**: the game runs on at its own speed with the previous chunk's actions while the next chunk is
  computed; a chunk that is not ready in time is *late* (the pad is released until it arrives), and late chunks
  are counted.

Stop ends the episode within one chunk and keeps what was played. Every episode (mp4 with the gamepad overlay,
actions, rewards per tic, final stats) is kept in History."""

# The one folded line naming the game's licences (its title must say what they are; the rest is one click away).
LICENCE_TITLE = "Game licences: ViZDoom (MIT) and Freedoom (BSD); no commercial game data"


def _licences() -> str:
    games = "  \n".join(g.licence for g in GAMES.values())
    return f"{games}  \n{ATARI_NOTE}"


LIVE_FORMAT = "jpeg"  # the live frames' format (the Live image's `format`)


class _Outputs:
    """Every update carries all five outputs (frame, status, chunk or final record, video, actions), so an API
    reader gets plain values each time, never Gradio's "no change" markers; the latest of each is repeated.
    A frame is saved once, as a file in Gradio's cache (shared/web/cached_images.py): repeated as a numpy
    array, Gradio would rewrite its cached file in place while a client may still be downloading it."""

    def __init__(self) -> None:
        self.latest = {"frame": None, "status": "", "chunk": None}

    def __call__(self, update: dict) -> tuple:
        if update.get("frame") is not None:
            update = {**update, "frame": image_file(update["frame"], LIVE_FORMAT)}
        self.latest.update({k: v for k, v in update.items() if k in self.latest})
        if "record" in update:
            return self.latest["frame"], update["status"], update["record"], update["video"], update["actions"]
        return self.latest["frame"], self.latest["status"], self.latest["chunk"], None, None


# Episodes get their own queue group so a visitor's second episode is refused at once (not queued behind the
# first); the GPU itself is still taken one task at a time (the handler waits for shared.tasks.zerogpu's turn).
PLAY_QUEUE = dict(concurrency_id="agent_play", concurrency_limit=4)


def _wire_play(run, agent_play, inputs, outputs):
    """Play on the page (a refusal or an early Stop lands on the status line, outputs[1]) and the named
    /agent_play endpoint on a hidden trigger (it raises them for API clients); returns the page's event."""
    event = run.click(on_status_line(agent_play, len(outputs), status=1), inputs, outputs, api_visibility="private",
                      preprocess=False, show_progress="hidden", **PLAY_QUEUE)
    gr.Button(visible=False).click(agent_play, inputs, outputs, api_name="agent_play", preprocess=False,
                                   show_progress="hidden", **PLAY_QUEUE)
    return event


def _details() -> None:
    """"How Play works", folded: the loop, the two modes and the gamepad mapping."""
    with gr.Accordion("How Play works", open=False, elem_id="agent-play-details"):
        gr.Markdown(PLAY_DETAILS)
        with gr.Accordion("Gamepad -> Doom mapping", open=False, elem_id="agent-play-mapping"):
            gr.Markdown(f"Stick dead zone {STICK_DEAD_ZONE} (rescaled beyond it); the model's stick y points "
                        "down. Each tic takes the action in effect at its start (the model acts 60 times a second).")
            gr.Dataframe(value=MAPPINGS["vizdoom"].table(), headers=["pad", "Doom control", "how"],
                         interactive=False, wrap=True)


def build_play_section(ctx, tabs, engine_for) -> None:
    """Lay out Play inside the current gr.Tab and wire its events; `tabs` is the agent's sub-tabs (Reuse)."""
    handlers = PlayHandlers(ctx, engine_for)

    @gradio_errors
    def agent_play(game: str, scenario: str, seed: int, mode: str, max_seconds: int, request: gr.Request = None):
        """NitroGen plays a ViZDoom (Freedoom) scenario on the server, closed loop, streamed as it plays.

        Args:
            game: "vizdoom".
            scenario: basic, defend_the_center, deadly_corridor, health_gathering or freedoom2_map01.
            seed: the game's and the model's seed (-1 picks one); the same seed replays the same episode.
            mode: "lockstep" (the game waits for each chunk) or "realtime" (it runs on; late chunks counted).
            max_seconds: the episode's limit in seconds of game time (1-60).

        Returns:
            per live frame: the frame with the gamepad overlay and a status line; per chunk: {chunk, actions,
            stats}; last: the final record (agent and random-baseline scores, timings), the mp4 and the
            actions JSON (actions, per-tic rewards, final stats).
        """
        outputs = _Outputs()
        for update in handlers.stream(game, scenario, seed, mode, max_seconds, request):
            yield outputs(update)

    @gradio_errors
    def agent_play_episode(game: str, scenario: str, seed: int, mode: str, max_seconds: int,
                           request: gr.Request = None):
        """The same episode as /agent_play, returned when it is over (lockstep runs as fast as the model allows).

        Returns:
            the final record (agent and random-baseline scores, timings), the mp4 with the gamepad overlay and
            the actions JSON (actions per chunk, per-tic rewards, final stats).
        """
        final = handlers.episode(game, scenario, seed, mode, max_seconds, request)
        return final["record"], final["video"], final["actions"]

    gr.Markdown(PLAY_INTRO, elem_id="agent-play-intro")
    with gr.Accordion(LICENCE_TITLE, open=False, elem_id="agent-play-licence"):
        gr.Markdown(_licences(), elem_id="agent-play-licence-text")
    with gr.Row():
        with gr.Column(scale=1):
            game = gr.Dropdown(**GAME.dropdown(elem_id="agent-play-game"))
            scenario = gr.Dropdown(**SCENARIO.dropdown(elem_id="agent-play-scenario"))
            mode = gr.Radio(**MODE.radio(elem_id="agent-play-mode"))
            max_seconds = gr.Slider(**MAX_SECONDS.slider(elem_id="agent-play-seconds"))
            seed = gr.Number(value=0, precision=0, label="Seed for the game and the model (-1 picks one at random)",
                             elem_id="agent-play-seed")
            with gr.Row():
                # min_width: side by side on a phone too, so the game follows the buttons at once.
                run = gr.Button("Play", variant="primary", elem_id="agent-play-run", min_width=80)
                stop = gr.Button("Stop", variant="stop", elem_id="agent-play-stop", min_width=80)
            api_btn = gr.Button("agent_play_episode (API)", visible=False)
        with gr.Column(scale=2):
            status = gr.Markdown("Pick a scenario and press Play.", label="Status", show_label=False,
                                 elem_id="agent-play-status", min_height=72,
                                 container=True)
            live = gr.Image(label="Live", elem_id="agent-play-live", interactive=False, format=LIVE_FORMAT,
                            show_label=False)
            video = gr.Video(label="Episode (overlay)", elem_id="agent-play-video", interactive=False)
            actions = gr.File(label="Actions, rewards, stats (JSON)", elem_id="agent-play-actions")
            record = gr.JSON(label="Chunk / final record", elem_id="agent-play-record")
    _details()  # below the result, not between the Play button and it (on a phone the columns stack)
    inputs = [game, scenario, seed, mode, max_seconds]
    release = lock_while_running(run, "Playing…")
    event = _wire_play(run, agent_play, inputs, [live, status, record, video, actions])
    release(event)
    stop.click(ctx.stop, None, None, api_visibility="private", queue=False)
    api_btn.click(agent_play_episode, inputs, [record, video, actions], api_name="agent_play_episode",
                  preprocess=False, **PLAY_QUEUE)
    ctx.reuse.register("agent_play", tab="agent", inputs=dict(zip(INPUT_NAMES, inputs)), extras={"tabs": tabs},
                       fill=lambda values, sidecar: {**values, "tabs": gr.Tabs(selected="agent-play-tab")})
