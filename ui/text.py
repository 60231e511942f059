"""User text (file names, column names, category values, segment names) shown literally.

Streamlit renders Markdown (with ``$...$`` as LaTeX, ``:red[...]`` colours and
``:emoji:`` short codes) in ``st.markdown``, ``st.caption``, ``st.write`` of strings,
``st.info``/``st.warning``/``st.error``/``st.success``, and in the labels of metrics,
tabs, expanders, buttons and other widgets. A column named ``**bold** $x$ [a](http://x)``
must appear as typed, never bold, as a formula or as a link, so every piece of user text
passes through :func:`md` before it is put into such a string.
"""

from __future__ import annotations

import string

#: Every ASCII punctuation character: CommonMark lets any of them be escaped with a
#: backslash and then shows it literally, so escaping all of them is always safe.
_PUNCTUATION = frozenset(string.punctuation)


def md(text: object) -> str:
    """``text`` escaped for Streamlit Markdown: shown exactly as typed.

    Every ASCII punctuation character gets a backslash (so ``*``, ``_``, ``[``, ``$``,
    ``:``, ``<`` and the rest lose their Markdown, LaTeX, directive and HTML meaning)
    and line breaks become spaces (a name stays on one line).

    Parameters
    ----------
    text : any object; ``str(text)`` is escaped

    Returns
    -------
    str, to be placed inside Markdown (never into plain-text places such as
    ``st.text``, data frames or select-box options, where the backslashes would show)
    """
    out = []
    for ch in " ".join(str(text).splitlines()):
        out.append("\\" + ch if ch in _PUNCTUATION else ch)
    return "".join(out)
