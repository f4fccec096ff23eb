"""``ashasim.errors.last_line``: the one way an error is told in one line."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ashasim.errors import last_line

TRACEBACK = """Traceback (most recent call last):
  File "objective.py", line 3, in objective
    raise ValueError("lr must be > 0")
ValueError: lr must be > 0

"""

line_text = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")))


def test_a_traceback_is_told_by_its_exception_line():
    assert last_line(TRACEBACK) == "ValueError: lr must be > 0"


def test_no_text_is_told_by_the_default():
    assert last_line(None) == last_line("") == last_line(" \n\t\n") == "(no message)"
    assert last_line("", default="") == ""


@given(lines=st.lists(line_text, max_size=6), blanks=st.lists(st.sampled_from(["", " ", "\t"])))
def test_it_is_the_last_non_blank_line_stripped(lines, blanks):
    text = "\n".join([*lines, *blanks])
    told = last_line(text)
    non_blank = [line.strip() for line in lines if line.strip()]
    assert told == (non_blank[-1] if non_blank else "(no message)")
    assert "\n" not in told


def test_a_worker_that_cannot_load_the_objective_is_summarised_by_the_last_line():
    from ashasim.run.messages import Fatal
    from ashasim.run.preflight import fatal_error

    error = fatal_error(3, Fatal(TRACEBACK, where="node-a"))
    first = str(error).splitlines()[0]
    assert first == "worker 3 on node-a could not load the objective: ValueError: lr must be > 0"
    given_summary = fatal_error(0, Fatal(TRACEBACK, summary="no module named 'objectives'"))
    assert str(given_summary).startswith("worker 0 could not load the objective: no module")
    assert "(no message)" in str(fatal_error(1, Fatal("")))  # once an IndexError


def test_an_exception_is_told_by_the_first_line_of_its_message():
    from ashasim.errors import first_line

    assert first_line(ValueError("\n  bad lr\nsee the docs")) == "bad lr"
    assert first_line(KeyError()) == "KeyError"
    assert first_line(RuntimeError("  ")) == "RuntimeError"
