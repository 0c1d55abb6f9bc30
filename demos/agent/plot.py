"""Timeline plot of a video run: button presses and stick values over time (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .actions import BUTTONS, UNTRAINED_BUTTONS


def _pyplot():
    """matplotlib at first plot, not at app start-up (it costs ~1 s to import)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def timeline(chunks: list[dict], times_s: list[float], path: Path, *, first_step_only: bool = False) -> Path:
    """Plot every chunk placed at its frame's time, each step 1/control_hz apart.

    Chunks overlap when the stride is shorter than a chunk; a later chunk
    then replaces the tail of the previous one (what a play loop would do).
    """
    rows = []  # (time, buttons[21], sticks[4])
    for k, (chunk, t0) in enumerate(zip(chunks, times_s)):
        hz = chunk["control_hz"]
        end = times_s[k + 1] if k + 1 < len(times_s) else float("inf")
        steps = 1 if first_step_only else chunk["horizon"]
        for s in range(steps):
            t = t0 + s / hz
            if t >= end:
                break
            rows.append((t, chunk["buttons"][s], chunk["j_left"][s] + chunk["j_right"][s]))
    t = np.array([r[0] for r in rows])
    buttons = np.array([r[1] for r in rows], dtype=float).reshape(len(rows), len(BUTTONS))
    sticks = np.array([r[2] for r in rows], dtype=float).reshape(len(rows), 4)

    plt = _pyplot()
    fig, (ax_b, ax_s) = plt.subplots(2, 1, figsize=(10, 7), sharex=True,
                                     gridspec_kw={"height_ratios": [3, 1.4]})
    width = 1.0 / chunks[0]["control_hz"] if chunks else 0.02
    for b, name in enumerate(BUTTONS):
        on = t[buttons[:, b] > 0.5]
        color = "tab:purple" if name in UNTRAINED_BUTTONS else "tab:orange"
        ax_b.broken_barh([(x, width) for x in on], (b - 0.4, 0.8), facecolors=color)
    ax_b.set_yticks(range(len(BUTTONS)))
    ax_b.set_yticklabels([n + (" (untrained)" if n in UNTRAINED_BUTTONS else "") for n in BUTTONS], fontsize=7)
    ax_b.set_ylim(-0.7, len(BUTTONS) - 0.3)
    ax_b.invert_yaxis()
    ax_b.set_title("Predicted button presses")
    ax_b.grid(axis="x", alpha=0.3)
    for x in times_s:
        ax_b.axvline(x, color="0.85", lw=0.6, zorder=0)
    for i, (label, style) in enumerate((("left x", "-"), ("left y", "--"), ("right x", "-"), ("right y", "--"))):
        ax_s.plot(t, sticks[:, i], style, label=label, color="tab:blue" if i < 2 else "tab:green", lw=1.2)
    ax_s.set_ylim(-1.05, 1.05)
    ax_s.set_ylabel("stick")
    ax_s.set_xlabel("time in the clip (s)")
    # Above the axes, not over the curves.
    ax_s.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=4, fontsize=8, frameon=False)
    ax_s.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
