"""One document model for every report: blocks, an HTML and a Markdown renderer, one CSS.

The sweep brief (:mod:`pathways_sim.report.brief`) and the calibration report
(:mod:`pathways_sim.calibration.report`) each lay out their content once as a
:class:`Document` (a title, an optional line of metadata, and a flat list of
blocks) and hand it to :func:`write_document`, which writes

* ``<stem>.html``: one self-contained page (figures embedded as base64 PNG,
  the CSS inline, no script and no external asset: it opens offline and can
  be e-mailed);
* ``<stem>.md``: the same content in Markdown, each figure a PNG file at its
  relative path beside it.

Both files come from the same blocks, so they always say the same.

Text in every block is plain text with a minimal inline markup that both
renderers understand: ``**bold**``, ```code``` and ``[label](#anchor)`` or
``[label](https://…)``. Everything else is text: the HTML renderer escapes it
(a target named ``<b>`` shows as ``<b>``), and the Markdown renderer escapes
what a Markdown viewer would otherwise read as an HTML tag or a table border.

Typical use::

    doc = Document("My report", (
        Heading("Results"),
        Paragraph("The **point** estimate, from `calibrated.json`."),
        Table(("target", "share"), (("work", "0.12"),), align=("left", "right")),
        Figure("figures/fit.png", png_bytes, alt="Observed against simulated"),
    ))
    write_document(doc, folder)  # folder/report.html, folder/report.md, folder/figures/fit.png
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

__all__ = [
    "CSS",
    "Block",
    "BulletList",
    "Callout",
    "Cell",
    "Code",
    "Document",
    "Figure",
    "Heading",
    "Paragraph",
    "Table",
    "inline_html",
    "render_html",
    "render_markdown",
    "slug",
    "write_document",
]

ALIGNMENTS = ("left", "right", "center")
"""Column alignments a :class:`Table` accepts."""

CALLOUT_KINDS = ("warning", "note")
"""Kinds of :class:`Callout`: a warning (amber) or a note (blue)."""

# --------------------------------------------------------------------------- blocks


@dataclass(frozen=True)
class Heading:
    """A section heading (level 2 headings make the page's navigation bar).

    Attributes:
        text: The heading (inline markup is not rendered in headings).
        level: 2 for a section, 3 for a subsection (1 is the document's title).
    """

    text: str
    level: int = 2

    def __post_init__(self) -> None:
        if self.level not in (2, 3, 4):
            raise ValueError(f"Heading {self.text!r}: level {self.level}, allowed 2, 3, 4 "
                             "(level 1 is the document's title)")


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of text with inline markup."""

    text: str


@dataclass(frozen=True)
class BulletList:
    """A bulleted list; each item is text with inline markup."""

    items: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", tuple(self.items))


@dataclass(frozen=True)
class Callout:
    """A highlighted box (a banner): ``kind`` is ``warning`` or ``note``."""

    text: str
    kind: str = "warning"

    def __post_init__(self) -> None:
        if self.kind not in CALLOUT_KINDS:
            raise ValueError(f"Callout kind {self.kind!r}, allowed: {', '.join(CALLOUT_KINDS)}")


Cell = str | tuple[str, str]
"""A table cell: text, or ``(text, css class)`` for a coloured HTML cell (the class is one
of the CSS's cell classes: better, worse, info, unclear, pass, fail, level)."""


@dataclass(frozen=True)
class Table:
    """A table: a header row, body rows, per-column alignment, a caption under it.

    Attributes:
        header: Column titles (inline markup).
        rows: Body rows, each as many cells as the header.
        align: ``left``, ``right`` or ``center`` per column (default all left).
        caption: Text under the table (inline markup), or None.
    """

    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    align: tuple[str, ...] | None = None
    caption: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "header", tuple(self.header))
        object.__setattr__(self, "rows", tuple(tuple(r) for r in self.rows))
        n = len(self.header)
        for i, row in enumerate(self.rows):
            if len(row) != n:
                raise ValueError(f"Table {self.header!r}: row {i} has {len(row)} cells, "
                                 f"the header {n}")
        if self.align is not None:
            object.__setattr__(self, "align", tuple(self.align))
            bad = [a for a in self.align if a not in ALIGNMENTS]
            if len(self.align) != n or bad:
                raise ValueError(f"Table {self.header!r}: align {self.align!r} needs one of "
                                 f"{', '.join(ALIGNMENTS)} for each of the {n} columns")

    def alignment(self, column: int) -> str:
        """The alignment of a column."""
        return "left" if self.align is None else self.align[column]


@dataclass(frozen=True)
class Figure:
    """A PNG figure: written to ``path`` (relative to the report) and embedded in HTML.

    Attributes:
        path: Where the PNG goes, relative to the report's folder, with ``/``
            separators (``fig01-effects.png``, ``figures/fit.png``).
        png: The image, PNG bytes.
        alt: Alternative text: what the figure shows, for a reader who cannot see it.
        caption: Text under the figure (inline markup), or None.
    """

    path: str
    png: bytes = field(repr=False)
    alt: str
    caption: str | None = None

    def __post_init__(self) -> None:
        p = PurePosixPath(self.path)
        if (not self.path or p.is_absolute() or ".." in p.parts or "\\" in self.path
                or ":" in self.path or p.suffix != ".png"):
            raise ValueError(f"Figure path {self.path!r}: needs a relative path ending in .png "
                             "inside the report's folder")
        if not self.alt.strip():
            raise ValueError(f"Figure {self.path}: alt text is empty; say what it shows")


@dataclass(frozen=True)
class Code:
    """Preformatted text (a traceback, a command), folded under ``summary`` in HTML."""

    text: str
    summary: str | None = None


Block = Heading | Paragraph | BulletList | Callout | Table | Figure | Code


@dataclass(frozen=True)
class Document:
    """A report as blocks, ready to render.

    Attributes:
        title: The page's title (its level 1 heading).
        blocks: The content, in order.
        meta: A line of metadata under the title (what, where, when), or None.
    """

    title: str
    blocks: tuple[Block, ...]
    meta: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "blocks", tuple(self.blocks))

    @property
    def figures(self) -> tuple[Figure, ...]:
        """The document's figures, in order."""
        return tuple(b for b in self.blocks if isinstance(b, Figure))


# --------------------------------------------------------------------------- HTML

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
max-width:1180px;margin:2em auto;padding:0 1.2em;color:#1a1a1a;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.2em}h2{margin-top:2em;border-bottom:2px solid #0072B2;
padding-bottom:.2em}h3{margin-top:1.4em}
table{border-collapse:collapse;margin:1em 0;font-size:.88em;width:100%}
caption{caption-side:bottom;text-align:left;color:#444;font-size:.9em;padding-top:.3em}
th,td{border:1px solid #c8c8c8;padding:.35em .5em;vertical-align:top;text-align:left}
th{background:#eef3f8}th.right,td.right{text-align:right}th.center,td.center{text-align:center}
td.better{background:#d3efe3}td.worse{background:#fadccb}td.info{background:#dce9f6}
td.unclear{background:#f3f3f3;color:#444}td.pass{background:#d3efe3;font-weight:600}
td.fail{background:#fadccb;font-weight:600}td.level{background:#fafafa}
.banner{border-left:6px solid #E69F00;background:#fff4dc;padding:.7em 1em;margin:1em 0}
.banner.note{border-color:#56B4E9;background:#eaf5fc}
figure{margin:1em 0}figcaption{color:#444;font-size:.9em}
img{max-width:100%;height:auto;display:block;margin:1em 0}
code{background:#f2f2f2;padding:0 .2em;border-radius:3px;font-size:.92em}
pre{background:#f6f6f6;padding:.8em;overflow-x:auto;font-size:.85em}
.meta{color:#555;font-size:.9em}nav{font-size:.9em}nav a{margin-right:.8em}
"""
"""The one style sheet of every report (Okabe-Ito accents, as the figures)."""

_LINK = re.compile(r"\[([^\]]+)\]\((#[-a-z0-9]+|https?://[^\s)\"<>]+)\)")


def slug(text: str) -> str:
    """The anchor of a heading: ``Failed runs`` -> ``failed-runs``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def inline_html(text: str) -> str:
    """Text with inline markup as HTML: everything escaped, then bold, code and links."""
    out = html.escape(text, quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)
    return _LINK.sub(lambda m: f'<a href="{html.escape(m[2])}">{m[1]}</a>', out)


def _cell_html(tag: str, cell: Cell, align: str) -> str:
    text, cls = cell if isinstance(cell, tuple) else (cell, "")
    classes = " ".join(c for c in (cls, "" if align == "left" else align) if c)
    attr = f' class="{html.escape(classes)}"' if classes else ""
    return f"<{tag}{attr}>{inline_html(text)}</{tag}>"


def _block_html(b: Block) -> str:
    if isinstance(b, Heading):
        return f'<h{b.level} id="{slug(b.text)}">{html.escape(b.text)}</h{b.level}>'
    if isinstance(b, Paragraph):
        return f"<p>{inline_html(b.text)}</p>"
    if isinstance(b, BulletList):
        return "<ul>" + "".join(f"<li>{inline_html(i)}</li>" for i in b.items) + "</ul>"
    if isinstance(b, Callout):
        return f'<div class="banner {b.kind}">{inline_html(b.text)}</div>'
    if isinstance(b, Table):
        parts = ["<table>"]
        if b.caption:
            parts.append(f"<caption>{inline_html(b.caption)}</caption>")
        parts.append("<thead><tr>" + "".join(_cell_html("th", h, b.alignment(i))
                                             for i, h in enumerate(b.header))
                     + "</tr></thead><tbody>")
        for row in b.rows:
            parts.append("<tr>" + "".join(_cell_html("td", c, b.alignment(i))
                                          for i, c in enumerate(row)) + "</tr>")
        parts.append("</tbody></table>")
        return "".join(parts)
    if isinstance(b, Figure):
        data = base64.b64encode(b.png).decode("ascii")
        img = f'<img src="data:image/png;base64,{data}" alt="{html.escape(b.alt)}">'
        caption = f"<figcaption>{inline_html(b.caption)}</figcaption>" if b.caption else ""
        return f"<figure>{img}{caption}</figure>"
    if isinstance(b, Code):
        body = f"<pre>{html.escape(b.text)}</pre>"
        if b.summary:
            body = f"<details><summary>{html.escape(b.summary)}</summary>{body}</details>"
        return body
    raise TypeError(f"not a report block: {type(b).__name__}")


def render_html(doc: Document, css: str = CSS) -> str:
    """The document as one self-contained HTML page (figures as base64 PNG, inline CSS).

    A navigation bar of the level 2 headings sits before the first heading when
    there are at least two.

    Args:
        doc: The document.
        css: The style sheet (default :data:`CSS`, the one every report uses).

    Returns:
        The page.
    """
    heads = [b for b in doc.blocks if isinstance(b, Heading) and b.level == 2]
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{html.escape(doc.title)}</title><style>{css}</style></head><body>",
             f"<h1>{html.escape(doc.title)}</h1>"]
    if doc.meta:
        parts.append(f'<p class="meta">{inline_html(doc.meta)}</p>')
    nav_done = len(heads) < 2
    for b in doc.blocks:
        if isinstance(b, Heading) and not nav_done:
            parts.append("<nav>" + "".join(f'<a href="#{slug(h.text)}">{html.escape(h.text)}</a>'
                                           for h in heads) + "</nav>")
            nav_done = True
        parts.append(_block_html(b))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# --------------------------------------------------------------------------- Markdown

_TAG = re.compile(r"<(?=[A-Za-z/!?])")


def _md_text(text: str) -> str:
    """Text for Markdown: a ``<`` that would open an HTML tag is escaped."""
    return _TAG.sub("&lt;", text)


def _md_cell(cell: Cell) -> str:
    text = cell[0] if isinstance(cell, tuple) else cell
    return _md_text(text).replace("|", "\\|").replace("\n", "<br>")


_RULE = {"left": ":---", "right": "---:", "center": ":---:"}


def _block_markdown(b: Block) -> list[str]:
    if isinstance(b, Heading):
        return ["#" * b.level + " " + _md_text(b.text)]
    if isinstance(b, Paragraph):
        return [_md_text(b.text)]
    if isinstance(b, BulletList):
        return [f"- {_md_text(i)}" for i in b.items]
    if isinstance(b, Callout):
        return [f"> {'⚠ ' if b.kind == 'warning' else ''}{_md_text(b.text)}"]
    if isinstance(b, Table):
        lines = ["| " + " | ".join(_md_cell(h) for h in b.header) + " |",
                 "|" + "|".join(_RULE[b.alignment(i)] if b.align else "---"
                                for i in range(len(b.header))) + "|"]
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in b.rows]
        if b.caption:
            lines += ["", f"*{_md_text(b.caption)}*"]
        return lines
    if isinstance(b, Figure):
        alt = b.alt.replace("[", "(").replace("]", ")")
        lines = [f"![{_md_text(alt)}]({b.path})"]
        if b.caption:
            lines += ["", f"*{_md_text(b.caption)}*"]
        return lines
    if isinstance(b, Code):
        fence = "~~~~" if "```" in b.text else "```"
        return ([f"**{_md_text(b.summary)}**", ""] if b.summary else []) + [fence, b.text,
                                                                          fence]
    raise TypeError(f"not a report block: {type(b).__name__}")


def render_markdown(doc: Document) -> str:
    """The document as Markdown; figures are links to their relative paths.

    Args:
        doc: The document.

    Returns:
        The Markdown text (the figures' files are written by :func:`write_document`).
    """
    lines = [f"# {_md_text(doc.title)}", ""]
    if doc.meta:
        lines += [_md_text(doc.meta), ""]
    for b in doc.blocks:
        lines += [*_block_markdown(b), ""]
    return "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------- files


def write_document(doc: Document, folder: Path | str, stem: str = "report",
                   css: str = CSS) -> list[Path]:
    """Write ``<stem>.html``, ``<stem>.md`` and the figures' PNG files into a folder.

    Each file is written whole or not at all (a temporary file moved into
    place), so a reader never sees half a report.

    Args:
        doc: The document.
        folder: The report's folder (created if needed).
        stem: File name of both renderings, without suffix.
        css: The style sheet of the HTML page.

    Returns:
        The files written: the Markdown file, the HTML file, then the figures.
    """
    # The store's writer is the project's one atomic write; imported here so that building
    # and rendering a document does not load the sweep package.
    from pathways_sim.sweep.store import atomic_write_bytes

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    figures: list[Path] = []
    seen: set[str] = set()
    for fig in doc.figures:
        if fig.path in seen:
            raise ValueError(f"two figures of {doc.title!r} share the path {fig.path}")
        seen.add(fig.path)
        path = folder / fig.path
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, fig.png)
        figures.append(path)
    md_path, html_path = folder / f"{stem}.md", folder / f"{stem}.html"
    atomic_write_bytes(md_path, render_markdown(doc).encode("utf-8"))
    atomic_write_bytes(html_path, render_html(doc, css).encode("utf-8"))
    return [md_path, html_path, *figures]

