"""Building HTML and SVG from pieces, escaping everything that is not already markup.

The report shows names and values that come from users' data (feature names, category
values, segment values, check details). Every such string goes through :func:`tag` or
:func:`escape`, which treat plain ``str`` as text and only :class:`Html` as markup, so a
value can never become an element or an attribute.

>>> tag("td", "<b>", class_="num")
'<td class="num">&lt;b&gt;</td>'
>>> tag("p", tag("b", "ok"), " & more")
'<p><b>ok</b> &amp; more</p>'
>>> tag("rect", x=1.25, aria_label='a"b')
'<rect x="1.25" aria-label="a&quot;b"></rect>'
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

#: Elements written without content or end tag (HTML void elements).
_VOID = frozenset({"br", "col", "hr", "img", "input", "link", "meta", "source", "wbr"})


class Html(str):
    """A string that is markup already (built by :func:`tag`): inserted as it is."""

    __slots__ = ()


Child = str | Html | None
AttributeValue = str | int | float | None


def escape(text: str) -> Html:
    """``text`` as HTML text or attribute value (``<``, ``>``, ``&`` and quotes escaped)."""
    return text if isinstance(text, Html) else Html(html.escape(text, quote=True))


def join(parts: Iterable[Child], separator: str = "") -> Html:
    """Concatenate markup and text (text escaped; ``None`` parts left out)."""
    return Html(escape(separator).join(escape(part) for part in parts if part is not None))


def tag(name: str, /, *children: Child, **attributes: AttributeValue) -> Html:
    """One element: ``<name attributes>children</name>``.

    Args:
        name: the element name (a constant of the caller's, never user data).
        *children: content; ``str`` is escaped, :class:`Html` is inserted as it is and
            ``None`` is left out.
        **attributes: attribute values, escaped; ``None`` leaves the attribute out. A
            trailing underscore is dropped (``class_``) and other underscores become hyphens
            (``aria_label``, ``text_anchor``).

    Returns:
        The element as :class:`Html`. Every element but the HTML void ones (``meta``,
        ``br``, ...) gets an end tag, SVG shapes included: in HTML, an SVG element without
        one would swallow the elements after it.
    """
    written = "".join(
        f' {_attribute_name(key)}="{escape(_attribute_text(value))}"'
        for key, value in attributes.items()
        if value is not None
    )
    if name in _VOID:
        return Html(f"<{name}{written}>")
    return Html(f"<{name}{written}>{join(children)}</{name}>")


def _attribute_name(key: str) -> str:
    return key.rstrip("_").replace("_", "-")


def _attribute_text(value: str | int | float) -> str:
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def cell(content: Child, css: str | None = None) -> Html:
    """A table cell (``css``: its class, e.g. ``num`` for right-aligned figures)."""
    return tag("td", content, class_=css)


def table(headers: Sequence[str], rows: Iterable[Html], *, numeric: Iterable[int] = ()) -> Html:
    """A table with one header row, wrapped so that a wide table scrolls on its own.

    Args:
        headers: the column titles.
        rows: ``<tr>`` elements (see :func:`tag` and :func:`cell`).
        numeric: indices of the columns holding figures (their titles align right).
    """
    right = set(numeric)
    head = tag(
        "tr",
        *(
            tag("th", title, class_="num" if index in right else None)
            for index, title in enumerate(headers)
        ),
    )
    return tag("div", tag("table", tag("thead", head), tag("tbody", join(rows))), class_="scroll")
