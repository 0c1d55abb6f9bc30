import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.errors import UserInputError
from shared.io.text import check_text


def test_accepts_and_strips():
    assert check_text("  hello  ", max_chars=10) == "hello"


@pytest.mark.parametrize("value,needle", [
    (None, "is empty"), ("", "is empty"), (" \n\t ", "is empty"), ("x" * 11, "11 characters; the limit is 10"),
    (12, "must be text, not int"), ({"a": 1}, "must be text, not dict"), ("caf\udce9", "not valid Unicode"),
])
def test_refusals_name_the_problem(value, needle):
    with pytest.raises(UserInputError, match=needle):
        check_text(value, max_chars=10, what="The prompt")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_text_is_accepted_or_refused_with_a_message(text):
    try:
        result = check_text(text, max_chars=30)
    except UserInputError as exc:
        assert str(exc)
    else:
        assert result and result == result.strip() and len(result) <= 30
