"""Values in: one declared spec per parameter, used by its UI control and by its API check.

A tab declares each input once (`Number`, `Choice`, `Text`, `Seed`, `Flag`),
builds its control from it (`gr.Slider(**spec.slider())`,
`gr.Dropdown(**spec.dropdown())`, ...) and checks what arrives with
`spec.check(value, notes)`, so the slider's range, the message and the check
cannot disagree. A profile's limit is applied once with `spec.capped(...)`.

Every refusal is a UserInputError that names the parameter, the value
(shortened) and what is allowed: "euler_steps is 40; it must be a whole number
from 1 to 16." Where a value can be repaired without surprise (a frame count
between two chunk sizes, 7.4 Euler steps) it is repaired and the repair is
written into `notes` (a dict the tab puts into `info["adjusted"]`).

Gradio-free: values arrive raw (events run with preprocess=False), so any JSON
type can show up here.
"""
from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

from shared.errors import UserInputError
from shared.io.text import check_speech_text, check_text, visible_text

SHOWN_CHARS = 60
SEED_LIMIT = 2**63


def shorten(value: Any, limit: int = SHOWN_CHARS) -> str:
    """`value` as a message shows it: repr, cut to `limit` characters with its full length noted."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f"{len(value):,} characters" if isinstance(value, str) else type(value).__name__
    return f"{text[:limit]}… ({size})"


def _fmt(number: float) -> str:
    return f"{number:,.0f}" if float(number).is_integer() else f"{number:g}"


def as_number(value: Any) -> float | None:
    """`value` as a finite float, or None for anything that is not one (bool, NaN, inf, 'abc', dict)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, (int, float)):
        return None
    try:
        value = float(value)
    except OverflowError:  # an int beyond float's range
        return None
    return value if math.isfinite(value) else None


# What a boolean parameter accepts besides true/false (any case, surrounding spaces ignored): a form
# field or a hand-written API call sends "false" or "0", and Python's bool("false") would be True.
TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")
FLAG_ALLOWED = "true or false (also 1/0 or yes/no)"


def as_flag(value: Any) -> bool | None:
    """`value` as the boolean it says (True/False, 1/0, "true"/"false", "yes"/"no", "1"/"0"), or None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    return None


def _note(notes: dict | None, name: str, text: str) -> None:
    if notes is not None:
        notes[name] = text


@dataclass(frozen=True)
class Param:
    name: str  # the API parameter name: messages name it
    label: str  # the UI control's label

    def check(self, value: Any, notes: dict | None = None) -> Any:
        raise NotImplementedError

    def refuse(self, value: Any, allowed: str) -> UserInputError:
        return UserInputError(f"{self.name} is {shorten(value)}; it must be {allowed}.")


@dataclass(frozen=True)
class Number(Param):
    """A number in [minimum, maximum]; `integer` ones are rounded to whole numbers (and to
    `multiple_of`) with a note, out-of-range and non-numbers are refused."""

    minimum: float = 0
    maximum: float = 1
    default: float | None = None
    step: float | None = None  # the slider's step; for integers also the grid values snap to
    integer: bool = False
    multiple_of: int | None = None
    unit: str = ""  # " s", " frames": shown after the numbers in messages
    limit_note: str = ""  # why the maximum is what it is ("the limit on profile 'cpu'")

    def capped(self, maximum: float, note: str = "") -> "Number":
        """This spec with a lower maximum (a profile's cap); the default follows it down."""
        maximum = min(self.maximum, maximum)
        default = None if self.default is None else min(self.default, maximum)
        return replace(self, maximum=maximum, default=default, limit_note=note or self.limit_note)

    @property
    def allowed(self) -> str:
        kind = f"a multiple of {self.multiple_of}" if self.multiple_of else \
            "a whole number" if self.integer else "a number"
        note = f" ({self.limit_note})" if self.limit_note else ""
        return f"{kind} from {_fmt(self.minimum)} to {_fmt(self.maximum)}{self.unit}{note}"

    def check(self, value: Any, notes: dict | None = None) -> int | float:
        if value is None and self.default is not None:
            return self.default
        number = as_number(value)
        if number is None or not self.minimum <= number <= self.maximum:
            raise self.refuse(value, self.allowed)
        if not self.integer:
            return number
        snapped = self.snap(number)
        if snapped != number:
            why = f"a multiple of {self.multiple_of}" if self.multiple_of else "a whole number"
            _note(notes, self.name, f"{_fmt(number)} was rounded to {snapped} ({self.name} must be {why}).")
        return snapped

    def snap(self, number: float) -> int:
        """The nearest allowed whole value (a multiple of `multiple_of`), kept inside the range."""
        grid = self.multiple_of or 1
        snapped = int(round(number / grid)) * grid
        low = math.ceil(self.minimum / grid) * grid
        high = math.floor(self.maximum / grid) * grid
        return int(min(max(snapped, low), high))

    def slider(self, **extra) -> dict:
        """Keyword arguments of the gr.Slider for this parameter."""
        step = self.step or (self.multiple_of or (1 if self.integer else None))
        kwargs = dict(minimum=self.minimum, maximum=self.maximum, value=self.default, label=self.label)
        if step is not None:
            kwargs["step"] = step
        return {**kwargs, **extra}

    def number(self, **extra) -> dict:
        """Keyword arguments of a gr.Number for this parameter."""
        kwargs = dict(value=self.default, label=self.label, minimum=self.minimum, maximum=self.maximum)
        if self.integer:
            kwargs["precision"] = 0
        return {**kwargs, **extra}


@dataclass(frozen=True)
class Choice(Param):
    """One of a fixed set of values (strings); `choices` are (title, value) pairs."""

    choices: tuple[tuple[str, Any], ...] = ()
    default: Any = None
    optional: bool = False  # None and "" mean the default

    @classmethod
    def of(cls, name: str, label: str, values: Sequence, default: Any = None, **kw) -> "Choice":
        pairs = tuple(v if isinstance(v, tuple) else (str(v), v) for v in values)
        return cls(name, label, choices=pairs, default=default, **kw)

    @property
    def values(self) -> list:
        return [value for _, value in self.choices]

    def only(self, values: Sequence, note: str = "") -> "Choice":
        """This spec limited to `values` (what a profile offers)."""
        pairs = tuple(pair for pair in self.choices if pair[1] in values)
        default = self.default if self.default in values else (pairs[0][1] if pairs else None)
        return replace(self, choices=pairs, default=default)

    def check(self, value: Any, notes: dict | None = None) -> Any:
        if self.optional and (value is None or value == ""):
            return self.default
        if isinstance(value, (str, int)) and not isinstance(value, bool) and value in self.values:
            return value
        listed = ", ".join(str(v) for v in self.values)
        raise UserInputError(f"{self.name} is {shorten(value)}; choose one of: {listed}.")

    def dropdown(self, **extra) -> dict:
        """Keyword arguments of a gr.Dropdown or gr.Radio for this parameter."""
        return {**dict(choices=list(self.choices), value=self.default, label=self.label), **extra}

    radio = dropdown


@dataclass(frozen=True)
class Text(Param):
    """Free text: must be text, hold something visible, and fit `max_chars` (shared.io.text.check_text);
    `speech` text must also hold a letter or digit to say (shared.io.text.check_speech_text)."""

    max_chars: int = 2000
    hint: str = ""  # what to type, said when the text is empty
    placeholder: str = ""
    speech: bool = False  # text a model speaks (not a video prompt): emoji-only is refused

    def capped(self, max_chars: int) -> "Text":
        return replace(self, max_chars=min(self.max_chars, max_chars))

    def check(self, value: Any, notes: dict | None = None) -> str:
        check = check_speech_text if self.speech else check_text
        return check(value, max_chars=self.max_chars, what=self.name, hint=self.hint)

    def textbox(self, **extra) -> dict:
        kwargs = dict(label=self.label, max_length=self.max_chars)
        if self.placeholder:
            kwargs["placeholder"] = self.placeholder
        return {**kwargs, **extra}


@dataclass(frozen=True)
class Seed(Param):
    """A random seed: -1 (or any negative, None, "") picks one; else a whole number below 2**63."""

    default: int = -1

    def check(self, value: Any, notes: dict | None = None) -> int:
        if value is None or value == "":
            return secrets.randbelow(2**31 - 1)
        if isinstance(value, int) and not isinstance(value, bool):
            number = value  # exact, however large
        else:
            number = as_number(value)
            if number is None or not number.is_integer():
                raise self.refuse(value, "a whole number (-1 picks one)")
            number = int(number)
        if number < 0:
            return secrets.randbelow(2**31 - 1)
        if number >= SEED_LIMIT:
            raise self.refuse(value, "below 2**63 (-1 picks one)")
        return number

    def number(self, **extra) -> dict:
        return {**dict(value=self.default, precision=0, label=self.label), **extra}


@dataclass(frozen=True)
class Flag(Param):
    default: bool = False

    def check(self, value: Any, notes: dict | None = None) -> bool:
        if value is None:
            return self.default
        flag = as_flag(value)
        if flag is None:
            raise self.refuse(value, FLAG_ALLOWED)
        return flag

    def checkbox(self, **extra) -> dict:
        return {**dict(value=self.default, label=self.label), **extra}


SEED = Seed("seed", "Seed (-1 = random; the seed used is shown in the info)")


@dataclass
class Checked:
    """Values checked against their specs, with the notes of any repair."""

    values: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)


def check_all(specs: Sequence[Param], values: dict) -> Checked:
    """Check `values[spec.name]` for each spec; the first refusal raises."""
    checked = Checked()
    for spec in specs:
        checked.values[spec.name] = spec.check(values.get(spec.name), checked.notes)
    return checked


def _is_boolean_control(component: Any) -> bool:
    """A checkbox (its API type is boolean); duck-typed so this module stays Gradio-free."""
    api_info = getattr(component, "api_info", None)
    try:
        return callable(api_info) and api_info().get("type") == "boolean"
    except Exception:  # noqa: BLE001 - a control whose api_info needs more context is not a checkbox
        return False


def check_control_value(component: Any, value: Any, param: str) -> Any:
    """A safety net for events that let Gradio preprocess their inputs: the raw value of a
    number, slider, checkbox, dropdown or radio control checked against the control's own range or
    choices, so a bad value gets our message instead of Gradio's preprocessing error.
    Returns the value to hand on: numbers and booleans sent as text are read by the same rules as
    every declared parameter (`as_number`: "5" is 5; `as_flag`: "false" is False), so Gradio never
    sees a string where its control expects a number or a boolean.
    Duck-typed on the control's attributes (this module stays Gradio-free)."""
    if value is None:
        return value
    if hasattr(component, "minimum") and hasattr(component, "maximum") and not hasattr(component, "choices"):
        low, high = component.minimum, component.maximum
        number = as_number(value)
        inside = number is not None and (low is None or number >= low) and (high is None or number <= high)
        if not inside:
            span = f" from {_fmt(low)} to {_fmt(high)}" if low is not None and high is not None else \
                f" of at least {_fmt(low)}" if low is not None else f" of at most {_fmt(high)}" if high is not None \
                else ""
            raise UserInputError(f"{param} is {shorten(value)}; it must be a number{span}.")
        return number if isinstance(value, str) else value
    if _is_boolean_control(component):
        flag = as_flag(value)
        if flag is None:
            raise UserInputError(f"{param} is {shorten(value)}; it must be {FLAG_ALLOWED}.")
        return flag
    if isinstance(getattr(component, "choices", None), list) and not getattr(component, "multiselect", False) \
            and not getattr(component, "allow_custom_value", False):
        values = [choice[1] if isinstance(choice, tuple) else choice for choice in component.choices]
        if not isinstance(value, (str, int, float)) or isinstance(value, bool) or value not in values:
            raise UserInputError(f"{param} is {shorten(value)}; choose one of: {', '.join(map(str, values))}.")
    return value


__all__ = ["Checked", "Choice", "Flag", "Number", "Param", "SEED", "Seed", "Text", "as_flag", "as_number", "check_all",
           "check_control_value", "shorten", "visible_text"]
