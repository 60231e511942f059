"""User text shown literally in Markdown (ui.text.md) and segment-name helpers (ui.segment_names)."""

from __future__ import annotations

import re

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from ui.segment_names import clean_names, with_names
from ui.text import md

#: Characters Streamlit's Markdown gives a meaning inside a line (emphasis, code, links,
#: images, HTML, entities, LaTeX, tables, directives and emoji codes, headings).
SPECIAL = set("\\`*_~[]!<>&$|:#")
#: CommonMark: a backslash before any ASCII punctuation character shows that character.
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def _literal(escaped: str) -> str:
    """What a CommonMark renderer shows for ``escaped`` (escapes resolved)."""
    return _ESCAPE.sub(r"\1", escaped)


def _unescaped_specials(escaped: str) -> list[str]:
    """Special characters of ``escaped`` that are not behind a backslash."""
    out, i = [], 0
    while i < len(escaped):
        if escaped[i] == "\\" and i + 1 < len(escaped):
            i += 2
            continue
        if escaped[i] in SPECIAL:
            out.append(escaped[i])
        i += 1
    return out


def test_markdown_link_bold_and_formula_are_shown_as_typed() -> None:
    tricky = "**bold** $x$ [a](http://x)"
    escaped = md(tricky)
    assert escaped == "\\*\\*bold\\*\\* \\$x\\$ \\[a\\](http\\://x)"
    assert _literal(escaped) == tricky
    assert not _unescaped_specials(escaped)


def test_line_starts_and_breaks() -> None:
    assert md("- not a list") == "\\- not a list"
    assert md("12. not a list") == "12\\. not a list"
    assert md("# not a heading") == "\\# not a heading"
    assert md("two\nlines") == "two lines"
    # Ordinary punctuation in a message is left as it is.
    assert md("There are only 3 row(s), fewer.") == "There are only 3 row(s), fewer."


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40))
@settings(max_examples=300, deadline=None)
def test_any_printable_text_reads_back_as_typed(text: str) -> None:
    escaped = md(text)
    assert _literal(escaped) == text
    assert not _unescaped_specials(escaped)
    assert not re.match(r"^\s*([-+>=]|\d+[.)])", escaped)  # never a list or a quote


def test_clean_names_trims_fills_and_keeps_names_distinct() -> None:
    fallback = {1: "High income", 2: "Young", 3: "Older"}
    got = clean_names({1: "  VIP  ", 2: "", 3: "vip"}, 3, fallback)
    assert got == {1: "VIP (1)", 2: "Young", 3: "vip (3)"}
    assert clean_names({1: "x" * 200}, 1, fallback)[1] == "x" * 60


def test_with_names_adds_the_column_beside_segment() -> None:
    frame = pd.DataFrame({"id": [1, 2, 3], "segment": [2, 1, 2], "segment_probability": 1.0})
    out = with_names(frame, "segment", {1: "A", 2: "B"})
    assert list(out.columns) == ["id", "segment", "segment_name", "segment_probability"]
    assert out["segment_name"].tolist() == ["B", "A", "B"]
    assert "segment_name" not in frame.columns  # the input is not changed
    # A table that already has the name beside the segment is left alone.
    assert with_names(out, "segment", {1: "Z"}) is out
    # An input column called segment_name is kept; the added one gets a suffix.
    taken = pd.DataFrame({"segment_name": ["mine"], "segment": [1]})
    assert list(with_names(taken, "segment", {1: "A"}).columns) == [
        "segment_name", "segment", "segment_name_model"
    ]  # fmt: skip
