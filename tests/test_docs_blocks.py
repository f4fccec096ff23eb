"""The code-block reader that tests/test_docs.py relies on: a block it misses is a block never
run, a marker it misreads runs what should not run (or the other way round)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.docs_blocks import Block, blocks

code_line = st.from_regex(r"[a-z][a-z0-9_ =()+.]{0,30}", fullmatch=True)
prose_line = st.from_regex(r"[A-Z][a-z ,.]{0,40}", fullmatch=True)
marker = st.one_of(
    st.builds(
        lambda reason: ("no-run", reason), st.from_regex(r"[a-z][a-z ]{5,30}[a-z]", fullmatch=True)
    ),
    st.just(("slow", "")),
)
block = st.tuples(
    st.sampled_from(["python", "bash", "text", "indented"]),
    st.lists(code_line, min_size=1, max_size=4),
    st.lists(marker, max_size=2, unique_by=lambda m: m[0]),
    st.lists(prose_line, max_size=2),
)


def render(page: list[tuple[str, list[str], list[tuple[str, str]], list[str]]]) -> str:
    parts = []
    for language, code, markers, prose in page:
        if prose or language == "indented":  # two indented blocks in a row would be one
            parts.append("\n".join(prose or ["Text."]))
        for key, value in markers:
            parts.append(f"<!-- {key}: {value} -->" if value else f"<!-- {key} -->")
        if language == "indented":
            parts.append("\n".join(f"    {line}" for line in code))
        else:
            parts.append(f"```{language}\n" + "\n".join(code) + "\n```")
    return "\n\n".join(parts) + "\n"


@given(st.lists(block, max_size=5))
def test_every_block_is_found_with_its_own_markers(tmp_path_factory, page):
    path = tmp_path_factory.mktemp("page") / "page.md"
    path.write_text(render(page), encoding="utf-8")
    found = blocks(path)
    assert [
        ("bash" if language == "indented" else language, code, markers)
        for language, code, markers, _ in page
    ] == [
        (b.language, b.code.splitlines(), [(key, value) for key, value in b.markers]) for b in found
    ]
    for b, (_, _, markers, _) in zip(found, page):
        keys = {key for key, _ in markers}
        assert b.runs == (b.language in {"python", "bash"} and "no-run" not in keys)
        assert b.slow == ("slow" in keys)


def test_a_marker_is_lost_when_prose_comes_between(tmp_path):
    path = tmp_path / "page.md"
    path.write_text("<!-- no-run: needs a GPU to run -->\nSome prose.\n\n```python\nx = 1\n```\n")
    (found,) = blocks(path)
    assert found.markers == () and found.runs


def small(markers: list[str]) -> Block:
    return Block(Path(__file__), 1, "python", "stop = 720\n", tuple(("small", m) for m in markers))


def test_small_markers_replace_and_must_match():
    assert small(['"720" -> "20"']).code_to_run() == "stop = 20\n"
    with pytest.raises(ValueError, match="not in the block"):
        small(['"900" -> "20"']).code_to_run()
    with pytest.raises(ValueError, match="needs"):
        small(['"720" "20"']).code_to_run()
