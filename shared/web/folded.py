"""The details a tab keeps folded under its form: the licence as one line, and how a model runs here.

A newcomer reads one or two sentences and the form; the licence stays visible as the title of a
closed accordion (licences must be shown), its full text one click away, and the profile/plan
explanation waits in a closed "How this runs on your machine".
"""
from __future__ import annotations

import gradio as gr

from shared.models import hub
from shared.web.ui import AppContext, readiness_markdown, refresh_on_load

HOW_IT_RUNS = "How this runs on your machine"


def licence_title(key: str, gist: str = "") -> str:
    """'Licence: CC BY-NC 4.0 (non-commercial)': the model's licence, with its gist in a few words."""
    return f"Licence: {hub.spec_for(key).licence}" + (f" ({gist})" if gist else "")


def licence_line(key: str, note: str, elem_id: str, gist: str = "") -> gr.Accordion:
    """One closed line naming the licence; inside, the Hub notice and the tab's `note`."""
    with gr.Accordion(licence_title(key, gist), open=False, elem_id=f"{elem_id}-line") as line:
        gr.Markdown(f"{hub.licence_notice(key)} {note}".strip(), elem_id=elem_id)
    return line


def how_it_runs(ctx: AppContext, keys: list[str], elem_id: str) -> gr.Accordion:
    """The readiness lines (weights here? what to expect on this profile?) in a closed accordion."""
    with gr.Accordion(HOW_IT_RUNS, open=False, elem_id=f"{elem_id}-accordion") as folded:
        refresh_on_load(gr.Markdown(elem_id=elem_id), readiness_markdown(ctx, keys))
    return folded
