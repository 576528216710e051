"""A reflection's transcript as Markdown: for coaches' long reads and for exports."""

from __future__ import annotations

from .service import Transcript


def transcript_markdown(transcript: Transcript, notes_title: str) -> str:
    """The transcript by section, questions in bold, answers below, coach notes last."""
    card = transcript.card
    name = transcript.manager.display_name or f"#{transcript.manager.id}"
    lines = [f"# {name} · {card.client} · {card.day.isoformat()}", ""]
    for section in transcript.sections:
        lines += [f"## {section.title}", ""]
        for prompt, answer in section.exchanges:
            lines += [f"**{prompt}**", "", answer, ""]
    if transcript.team:  # summaries only: the first line is the round's title
        lines += [f"## {transcript.team[0]}", "", *transcript.team[1:], ""]
    if transcript.notes:
        lines += [f"## {notes_title}", ""] + [f"- {note}" for note in transcript.notes]
    return "\n".join(lines) + "\n"
