"""A tiny document model rendered both to Markdown and to one self-contained HTML file.

Building the content once and rendering it twice is what keeps report.md and report.html
saying exactly the same thing.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Para:
    """One paragraph; supports **bold**, _italic_ and `code` inline markup."""

    text: str


@dataclass(frozen=True)
class Bullets:
    items: Sequence[str]


@dataclass(frozen=True)
class Table:
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    #: "l" or "r" per column; numbers read best right-aligned.
    align: Sequence[str] = ()
    caption: str = ""


@dataclass(frozen=True)
class Chart:
    """A chart saved as ``stem.png`` and ``stem.svg`` next to the report."""

    stem: str
    alt: str
    caption: str = ""


@dataclass(frozen=True)
class Folded:
    """Blocks a reader opens on demand (``<details>``: HTML, and the Markdown of GitHub and
    GitLab wikis): long reference tables that would otherwise push the findings off screen."""

    summary: str
    blocks: Sequence[Heading | Para | Bullets | Table | Chart]


Block = Heading | Para | Bullets | Table | Chart | Folded


@dataclass
class Document:
    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)

    def headings(self) -> list[str]:
        return [b.text for b in self.blocks if isinstance(b, Heading)]


# --- Markdown -------------------------------------------------------------------------------


def _md_cell(text: str) -> str:
    # A pipe inside a cell would split it; newlines would end the row.
    return text.replace("|", "\\|").replace("\n", "<br>")


def markdown_table(table: Table) -> str:
    align = list(table.align) or ["l"] * len(table.columns)
    lines = [
        "| " + " | ".join(_md_cell(c) for c in table.columns) + " |",
        "|" + "|".join("---:" if a == "r" else ":---" for a in align) + "|",
    ]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in table.rows]
    text = "\n".join(lines)
    if table.caption:
        text += f"\n\n_{table.caption}_"
    return text


def to_markdown(doc: Document) -> str:
    parts = [f"# {doc.title}"] + [_md_block(block) for block in doc.blocks]
    return "\n\n".join(parts) + "\n"


def _md_block(block: Block) -> str:
    if isinstance(block, Heading):
        return "#" * block.level + " " + block.text
    if isinstance(block, Para):
        return block.text
    if isinstance(block, Bullets):
        return "\n".join(f"- {item}" for item in block.items)
    if isinstance(block, Table):
        return markdown_table(block)
    if isinstance(block, Folded):
        # Blank lines around the inner Markdown: the wikis render it only then.
        inner = "\n\n".join(_md_block(b) for b in block.blocks)
        return f"<details><summary>{html.escape(block.summary)}</summary>\n\n{inner}\n\n</details>"
    # PNG in the Markdown: every wiki renders it; the SVG sits next to it for print.
    image = f"![{block.alt}]({block.stem}.png)"
    return image + (f"\n\n_{block.caption}_" if block.caption else "")


# --- HTML -----------------------------------------------------------------------------------

_INLINE = (
    # [text](relative link): the header strip's links to data.csv and the compare pages.
    (re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)"), r'<a href="\2">\1</a>'),
    (re.compile(r"\*\*(.+?)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"`(.+?)`"), r"<code>\1</code>"),
    (re.compile(r"(?<![\w])_(.+?)_(?![\w])"), r"<em>\1</em>"),
)


def inline_html(text: str) -> str:
    out = html.escape(text, quote=False)
    for pattern, replacement in _INLINE:
        out = pattern.sub(replacement, out)
    return out.replace("\n", "<br>")


CSS = """
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --head:#f6f8fa; --accent:#0072B2; }
* { box-sizing: border-box; }
body { font: 15px/1.5 -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif;
       color: var(--fg); max-width: 1100px; margin: 2rem auto; padding: 0 1.25rem; }
h1 { font-size: 1.8rem; border-bottom: 1px solid var(--line); padding-bottom: .3rem; }
h2 { font-size: 1.35rem; margin-top: 2.2rem; border-bottom: 1px solid var(--line);
     padding-bottom: .25rem; }
h3 { font-size: 1.1rem; margin-top: 1.6rem; }
p, li { max-width: 75ch; }
.table-wrap { overflow-x: auto; margin: .8rem 0; }
table { border-collapse: collapse; font-size: .9rem; }
th, td { border: 1px solid var(--line); padding: .3rem .6rem; vertical-align: top;
         overflow-wrap: break-word; }
th { background: var(--head); text-align: left; }
td.r { text-align: right; font-variant-numeric: tabular-nums; }
tr:nth-child(even) td { background: #fbfcfd; }
figure { margin: 1rem 0 1.6rem; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption, .caption { color: var(--muted); font-size: .88rem; }
details { margin: .8rem 0; } summary { cursor: pointer; color: var(--accent); }
code { background: var(--head); padding: .1rem .3rem; border-radius: 4px; font-size: .9em; }
"""


def _html_table(table: Table) -> str:
    align = list(table.align) or ["l"] * len(table.columns)
    head = "".join(f"<th>{inline_html(c)}</th>" for c in table.columns)
    body = []
    for row in table.rows:
        cells = "".join(
            f'<td class="{a}">{inline_html(c)}</td>' for c, a in zip(row, align, strict=False)
        )
        body.append(f"<tr>{cells}</tr>")
    caption = f'<p class="caption">{inline_html(table.caption)}</p>' if table.caption else ""
    return (
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>{caption}"
    )


def to_html(doc: Document, image_dir: Path) -> str:
    """One file with every chart embedded as a base64 PNG: it survives being mailed around."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(doc.title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{inline_html(doc.title)}</h1>",
    ]
    parts += [_html_block(block, image_dir) for block in doc.blocks]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _html_block(block: Block, image_dir: Path) -> str:
    if isinstance(block, Heading):
        level = min(max(block.level, 2), 6)
        return f"<h{level}>{inline_html(block.text)}</h{level}>"
    if isinstance(block, Para):
        return f"<p>{inline_html(block.text)}</p>"
    if isinstance(block, Bullets):
        items = "".join(f"<li>{inline_html(i)}</li>" for i in block.items)
        return f"<ul>{items}</ul>"
    if isinstance(block, Table):
        return _html_table(block)
    if isinstance(block, Folded):
        inner = "\n".join(_html_block(b, image_dir) for b in block.blocks)
        return f"<details><summary>{inline_html(block.summary)}</summary>\n{inner}\n</details>"
    data = base64.b64encode((image_dir / f"{block.stem}.png").read_bytes()).decode()
    caption = f"<figcaption>{inline_html(block.caption)}</figcaption>" if block.caption else ""
    return (
        f'<figure><img alt="{html.escape(block.alt)}" '
        f'src="data:image/png;base64,{data}">{caption}</figure>'
    )
