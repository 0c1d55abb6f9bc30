"""`on_status_line`: the page's twin of an endpoint puts our refusal on the status line and leaves the
other outputs as they were; the endpoint itself still raises gr.Error (issue #23 item 2)."""
import gradio as gr
import pytest

from shared.errors import UserInputError
from shared.tasks.cancel import NothingKept
from shared.web.ui import gradio_errors, on_status_line


def _is_skip(value) -> bool:
    return isinstance(value, dict) and value == gr.skip()


@gradio_errors
def refuse(text: str, request: gr.Request = None):
    raise UserInputError(f"text is {text!r}; it must have a letter.")


@gradio_errors
def stream(n: int):
    yield "first", {"n": n}
    if n < 0:
        raise NothingKept("Stopped before the first chunk was ready: nothing was kept.")
    raise RuntimeError("internal detail that must not show")


def test_the_endpoint_still_raises_gr_error():
    with pytest.raises(gr.Error):
        refuse("🙂")


def test_a_refusal_lands_on_the_appended_status_line(monkeypatch):
    toasts = []
    monkeypatch.setattr(gr, "Warning", lambda message, **kw: toasts.append(message))
    twin = on_status_line(refuse, 1)
    result, status = twin("🙂")
    assert _is_skip(result)
    assert status.startswith("**Not run:** text is '🙂'; it must have a letter.")
    assert toasts == ["text is '🙂'; it must have a letter."]


def test_the_twin_keeps_the_parameters_gradio_reads():
    import inspect

    assert list(inspect.signature(on_status_line(refuse, 1)).parameters) == ["text", "request"]
    assert inspect.isgeneratorfunction(on_status_line(stream, 2))


def test_a_stop_before_anything_is_said_in_words_without_a_toast(monkeypatch):
    toasts = []
    monkeypatch.setattr(gr, "Warning", lambda message, **kw: toasts.append(message))
    items = list(on_status_line(stream, 2)(-1))
    assert items[0][:2] == ("first", {"n": -1}) and _is_skip(items[0][2])
    assert all(_is_skip(v) for v in items[-1][:2])
    assert items[-1][2] == "**Stopped before the first chunk was ready: nothing was kept.**"
    assert toasts == []


def test_an_unexpected_error_gives_the_generic_message(monkeypatch):
    toasts = []
    monkeypatch.setattr(gr, "Warning", lambda message, **kw: toasts.append(message))
    *_, last = on_status_line(stream, 2)(1)
    assert last[2] == "**The run failed:** Something went wrong on the server; the details are in its log."
    assert "internal detail" not in " ".join(toasts)


def test_status_inside_the_outputs_is_replaced_in_place(monkeypatch):
    monkeypatch.setattr(gr, "Warning", lambda message, **kw: None)
    values = on_status_line(refuse, 3, status=1)("x")
    assert len(values) == 3 and _is_skip(values[0]) and _is_skip(values[2])
    assert values[1].startswith("**Not run:**")
