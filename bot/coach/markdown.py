"""A reflection's transcript as Markdown: for coaches' long reads and for exports.

Every text is escaped, the playbook's included (its prompts quote what the manager typed, such
as the client's alias): a Markdown viewer shows it as text, never as raw HTML, a link or a
heading. Only the headings and bold questions are this module's own markup.
"""

from __future__ import annotations

import re

from ..formatting import day_text
from .service import Transcript

# CommonMark lets a backslash escape any ASCII punctuation; these start inline markup, links,
# autolinks, raw HTML or entities.
_INLINE = re.compile(r"([\\`*_\[\]<>&!|~])")
# ...and these start a block (heading, list, quote, setext underline, ordered list) at a line's
# start, after optional indentation.
_BLOCK = re.compile(r"^(\s*)([#+\-=>]|\d+[.)])", re.MULTILINE)


def escape_markdown(text: str) -> str:
    """Typed text shown literally by any CommonMark viewer (no HTML, links or headings)."""
    escaped = _INLINE.sub(r"\\\1", text)
    return _BLOCK.sub(lambda m: m.group(1) + _escape_marker(m.group(2)), escaped)


def _escape_marker(marker: str) -> str:
    return marker[:-1] + "\\" + marker[-1] if marker[0].isdigit() else "\\" + marker


def transcript_markdown(
    transcript: Transcript, notes_title: str, lang: str = "fr", commitments_title: str = ""
) -> str:
    """The transcript by section, questions in bold, answers below, coach notes, then the
    commitments under `commitments_title` (when given)."""
    card = transcript.card
    name = escape_markdown(transcript.manager.display_name or f"#{transcript.manager.id}")
    client = escape_markdown(card.client)
    lines = [f"# {name} · {client} · {day_text(card.day, lang)}", ""]
    for section in transcript.sections:
        lines += [f"## {escape_markdown(section.title)}", ""]
        for prompt, answer in section.exchanges:
            lines += [f"**{escape_markdown(prompt)}**", "", escape_markdown(answer), ""]
    if transcript.team:  # summaries only: the first line is the round's title
        lines += [f"## {escape_markdown(transcript.team[0])}", ""]
        lines += [escape_markdown(line) for line in transcript.team[1:]] + [""]
    if transcript.notes:
        lines += [f"## {escape_markdown(notes_title)}", ""]
        lines += [f"- {escape_markdown(note)}" for note in transcript.notes]
    if transcript.commitments and commitments_title:
        lines += ["", f"## {escape_markdown(commitments_title)}", ""]
        lines += [f"- {escape_markdown(line)}" for line in transcript.commitments]
    return "\n".join(lines) + "\n"
