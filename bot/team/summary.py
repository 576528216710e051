"""A team round's summary: counts, the feelings' distribution and shuffled lists, never who.

Pure functions over the answers' values: no storage, no Telegram. Each list is shuffled on its
own, so that a worry, an idea and an offer cannot be lined up into one person's answers.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..flows.model import Lang, Playbook, Safety, ScaleStep, TeamTexts
from ..flows.safety import needs_safety_note
from ..flows.text import fill

MINIMUM_ANSWERS = 3
"""Below this many answers nothing is shown: two answers and a guess expose a person."""
MESSAGE_ROOM = 4000
"""Characters per chat message (Telegram allows 4096; room for the adapter's additions)."""
BAR = "█"

FEELING, WORRY, IDEA, OWN, CONTRIBUTE, SIGNATURE = (
    "feeling",
    "worry",
    "idea",
    "own_answer",
    "contribute",
    "signature",
)
"""Steps of the `team_round` flow whose answers the summary reads (see contract.py)."""


@dataclass(frozen=True)
class RoundSummary:
    """What the manager may see of a closed round; empty lists when too few answered."""

    answered: int
    shown: bool
    feelings: tuple[tuple[int, int], ...] = ()
    """(point of the scale, how many chose it), for every point, lowest first."""
    worries: tuple[str, ...] = ()
    ideas: tuple[str, ...] = ()
    own_question: str | None = None
    own_answers: tuple[str, ...] = ()
    offers: int = 0
    names: tuple[str, ...] = ()
    """First names of those who signed their offer to contribute."""
    distress: bool = False
    """Some words of the answers brought their author the safety note."""


def summarise(
    answers: Iterable[str],
    own_question: str | None,
    scale: tuple[int, int],
    safety: Safety,
    rng: random.Random | None = None,
) -> RoundSummary:
    """The summary of a round's finished answers (JSON objects of step -> value)."""
    values = [json.loads(answer) for answer in answers]
    if len(values) < MINIMUM_ANSWERS:
        return RoundSummary(answered=len(values), shown=False)
    shuffle = (rng or random.SystemRandom()).shuffle
    low, high = scale
    counts = dict.fromkeys(range(low, high + 1), 0)
    for value in values:
        feeling = value.get(FEELING)
        if isinstance(feeling, int) and feeling in counts:
            counts[feeling] += 1

    def texts(step: str) -> tuple[str, ...]:
        found = [
            v[step].strip() for v in values if isinstance(v.get(step), str) and v[step].strip()
        ]
        shuffle(found)
        return tuple(found)

    offers = sum(1 for value in values if value.get(CONTRIBUTE) is True)
    names = [
        value[SIGNATURE].strip()
        for value in values
        if value.get(CONTRIBUTE) is True and isinstance(value.get(SIGNATURE), str)
    ]
    shuffle(names)
    worries, ideas, own = texts(WORRY), texts(IDEA), texts(OWN)
    distress = any(needs_safety_note(safety, text) for text in (*worries, *ideas, *own))
    return RoundSummary(
        answered=len(values),
        shown=True,
        feelings=tuple(counts.items()),
        worries=worries,
        ideas=ideas,
        own_question=own_question,
        own_answers=own if own_question else (),
        offers=offers,
        names=tuple(name for name in names if name),
        distress=distress,
    )


def feeling_scale(playbook: Playbook) -> ScaleStep:
    """The `feeling` question of the team round (its range and labels)."""
    step = playbook.flow("team_round").step_by_id[FEELING]
    assert isinstance(step, ScaleStep), "the contract keeps 'feeling' a scale"
    return step


def feeling_labels(playbook: Playbook, lang: Lang) -> list[tuple[int, str]]:
    """Each point of the feeling scale with its label ('' where the playbook gives none)."""
    step = feeling_scale(playbook)
    return [
        (point, step.labels[point].get(lang) if point in step.labels else "")
        for point in range(step.min, step.max + 1)
    ]


def summary_lines(summary: RoundSummary, playbook: Playbook, lang: Lang) -> list[str]:
    """The summary as text lines: the chart's text equivalent, then each list."""
    team = _texts(playbook)
    if not summary.shown:
        values = {"count": str(summary.answered), "minimum": str(MINIMUM_ANSWERS)}
        return [fill(team.too_small.get(lang), values)]
    lines = [fill(team.summary_title.get(lang), {"count": str(summary.answered)}), ""]
    lines.append(team.feelings_title.get(lang))
    labels = dict(feeling_labels(playbook, lang))
    for point, count in summary.feelings:
        values = {
            "value": str(point),
            "label": labels.get(point) or str(point),
            "bar": BAR * count,
            "count": str(count),
        }
        lines.append(fill(team.feeling_line.get(lang), values))
    lines += _list(team.worries_title.get(lang), summary.worries, team, lang)
    lines += _list(team.ideas_title.get(lang), summary.ideas, team, lang)
    if summary.own_question:
        title = fill(team.own_title.get(lang), {"question": summary.own_question})
        lines += _list(title, summary.own_answers, team, lang)
    lines += ["", fill(team.offers_line.get(lang), {"count": str(summary.offers)})]
    if summary.names:
        lines.append(fill(team.offers_signed.get(lang), {"names": ", ".join(summary.names)}))
    if summary.distress:
        lines += ["", team.distress_note.get(lang)]
    return lines


def messages(lines: Sequence[str], room: int = MESSAGE_ROOM) -> list[str]:
    """Lines gathered into chat messages of at most `room` characters (long lines are cut)."""
    parts: list[str] = []
    current = ""
    for line in lines:
        while len(line) > room:
            parts, current = _flush(parts, current)
            parts.append(line[:room])
            line = line[room:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > room:
            parts, current = _flush(parts, current)
            candidate = line
        current = candidate
    parts, _ = _flush(parts, current)
    return parts


def _flush(parts: list[str], current: str) -> tuple[list[str], str]:
    if current.strip():
        parts.append(current.strip("\n"))
    return parts, ""


def _list(title: str, items: Sequence[str], team: TeamTexts, lang: Lang) -> list[str]:
    shown = [f"• {item}" for item in items] or [team.nothing_given.get(lang)]
    return ["", title, *shown]


def _texts(playbook: Playbook) -> TeamTexts:
    if playbook.team is None:
        raise LookupError("the playbook has no 'team:' section")
    return playbook.team
