"""User text (file names, column names, category values, segment names) shown literally.

Streamlit renders Markdown (with ``$...$`` as LaTeX, ``:red[...]`` colours and
``:emoji:`` short codes) in ``st.markdown``, ``st.caption``, ``st.write`` of strings,
``st.info``/``st.warning``/``st.error``/``st.success``, and in the labels of metrics,
tabs, expanders, buttons and other widgets. A column named ``**bold** $x$ [a](http://x)``
must appear as typed, never bold, as a formula or as a link, so every piece of user text
passes through :func:`md` before it is put into such a string.
"""

from __future__ import annotations

import re

#: Characters with a meaning anywhere in a line of Streamlit Markdown: emphasis and code
#: (* _ ` ~), links and images ([ ] !), HTML and entities (< > &), LaTeX ($), tables (|),
#: colour directives and emoji short codes (:), headings (#) and the escape itself (\).
#: CommonMark shows any ASCII punctuation literally after a backslash.
_INLINE = frozenset("\\`*_~[]!<>&$|:#")
#: What starts a list or a quote at the beginning of a line: "- ", "+ ", "> ", "12. ", "3) ".
_LINE_START = re.compile(r"^(\s*)([-+>=]|\d+[.)])")


def md(text: object) -> str:
    """``text`` escaped for Streamlit Markdown: shown exactly as typed.

    Every character with a Markdown, LaTeX, HTML or directive meaning inside a line
    gets a backslash, so does a list or quote marker at the start, and line breaks
    become spaces (a name stays on one line). Ordinary punctuation (``,`` ``.`` ``(``
    ``)`` ``-`` in the middle) is left alone, so messages read the same in the source.

    Parameters
    ----------
    text : any object; ``str(text)`` is escaped

    Returns
    -------
    str, to be placed inside Markdown (never into plain-text places such as
    ``st.text``, data frames or select-box options, where the backslashes would show)
    """
    line = " ".join(str(text).splitlines())
    out = "".join("\\" + ch if ch in _INLINE else ch for ch in line)
    m = _LINE_START.match(out)
    if m:
        marker = m.group(2)
        out = m.group(1) + marker[:-1] + "\\" + marker[-1] + out[m.end() :]
    return out
