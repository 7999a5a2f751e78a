"""The report document model every report shares (sweep brief, calibration report)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from pathways_sim.report.document import (
    BulletList,
    Callout,
    Code,
    Document,
    Figure,
    Heading,
    Paragraph,
    Table,
    render_html,
    render_markdown,
    write_document,
)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


def sample() -> Document:
    """A document with every kind of block, and text that looks like markup."""
    return Document("Report <1> & co", (
        Callout("**Incomplete sweep**: 3 of 5 runs <script>alert(1)</script>"),
        Heading("Results & <b>tables</b>"),
        Paragraph("Use `a<b` with **bold** and [failed runs](#failed-runs); "
                  "x < 0.3 and [bad](javascript:alert(1))."),
        BulletList(["one <i>", "**two**"]),
        Table(["target", "share | of <n>", "deviance"],
              [["work", "0.0192", "0.1"], ["<img src=x>", ("**no**", "fail"), "12.5"]],
              align=["left", "center", "right"], caption="Deviance: **0** is a perfect fit."),
        Figure("figures/fit.png", PNG, alt='Observed "against" <simulated>',
               caption="Each target."),
        Heading("Failed runs"),
        Code("Traceback <module>\n  raise ValueError('x')", summary="Run 3 <failed>"),
    ), meta="Experiment `x` · written by pathways-sim")


def test_html_escapes_all_text_and_keeps_only_the_inline_markup() -> None:
    page = render_html(sample())
    body = page.split("<body>", 1)[1]
    # no tag of the text survives: every "<" of the content is escaped
    for raw in ("<script>", "<b>tables", "<i>", "<img src=x>", "<1>", "<simulated>",
                "<module>", "<failed>", "<n>"):
        assert raw not in body, raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<title>Report &lt;1&gt; &amp; co</title>" in page
    assert 'alt="Observed &quot;against&quot; &lt;simulated&gt;"' in body
    # the inline markup is rendered, and only to #anchors and http(s) links
    assert "<code>a&lt;b</code>" in body and "<strong>bold</strong>" in body
    assert '<a href="#failed-runs">failed runs</a>' in body
    assert all(h.startswith(("#", "http")) for h in re.findall(r'href="([^"]*)"', body))
    assert '<div class="banner warning"><strong>Incomplete sweep</strong>' in body
    assert '<td class="fail center"><strong>no</strong></td>' in body
    assert '<td class="right">12.5</td>' in body and '<th class="right">deviance</th>' in body
    # a heading's anchor matches the link to it, and the nav lists the level-2 headings
    assert '<h2 id="failed-runs">Failed runs</h2>' in body
    assert re.search(r"<nav>.*href=\"#results-b-tables-b\".*href=\"#failed-runs\".*</nav>",
                     body)


def test_html_embeds_figures_so_the_page_needs_no_other_file() -> None:
    page = render_html(sample())
    [data] = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert base64.b64decode(data) == PNG
    assert "figures/fit.png" not in page and "<script" not in page and "<link" not in page


def test_markdown_tables_are_aligned_and_escaped() -> None:
    md = render_markdown(sample())
    lines = md.splitlines()
    i = lines.index("| target | share \\| of &lt;n> | deviance |")
    assert lines[i + 1] == "|:---|:---:|---:|"
    assert lines[i + 2] == "| work | 0.0192 | 0.1 |"
    assert lines[i + 3] == "| &lt;img src=x> | **no** | 12.5 |"
    assert "*Deviance: **0** is a perfect fit.*" in md
    # every row has as many cells as the header (an escaped "|" is not a border)
    for line in lines[i:i + 4]:
        assert len(re.split(r"(?<!\\)\|", line)) == 5
    # an unaligned table keeps plain rules
    plain = render_markdown(Document("t", [Table(["a", "b"], [["1", "2"]])]))
    assert "|---|---|" in plain
    # text that is not a tag stays readable
    assert "x < 0.3" in md and "> ⚠ **Incomplete sweep**" in md


def test_a_figure_has_alt_text_and_a_relative_path() -> None:
    md = render_markdown(sample())
    assert "![Observed \"against\" &lt;simulated>](figures/fit.png)" in md
    assert "*Each target.*" in md
    assert '<figcaption>Each target.</figcaption>' in render_html(sample())
    with pytest.raises(ValueError, match="alt text is empty"):
        Figure("fit.png", PNG, alt="  ")
    for bad in ("/tmp/fit.png", "../fit.png", "C:/fit.png", "https://x/fit.png", "fit.svg"):
        with pytest.raises(ValueError, match="relative path"):
            Figure(bad, PNG, alt="fit")


def test_a_table_row_must_match_its_header() -> None:
    with pytest.raises(ValueError, match="row 1 has 1 cells, the header 2"):
        Table(["a", "b"], [["1", "2"], ["3"]])
    with pytest.raises(ValueError, match="align"):
        Table(["a", "b"], [["1", "2"]], align=["left", "middle"])


def test_a_document_renders_identically_twice(tmp_path: Path) -> None:
    doc = sample()
    assert render_html(doc) == render_html(sample())
    assert render_markdown(doc) == render_markdown(sample())
    first = write_document(doc, tmp_path / "a")
    second = write_document(doc, tmp_path / "b")
    assert [p.relative_to(tmp_path / "a") for p in first] == [
        Path("report.md"), Path("report.html"), Path("figures/fit.png")]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()
    assert (tmp_path / "a" / "figures" / "fit.png").read_bytes() == PNG
    # no temporary file is left behind by the atomic writes
    assert sorted(p.name for p in (tmp_path / "a").rglob("*")) == [
        "figures", "fit.png", "report.html", "report.md"]


def test_two_figures_cannot_share_a_file(tmp_path: Path) -> None:
    doc = Document("t", [Figure("f.png", PNG, alt="one"), Figure("f.png", PNG, alt="two")])
    with pytest.raises(ValueError, match="share the path f.png"):
        write_document(doc, tmp_path)
