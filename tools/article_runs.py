"""Fingerprints of the coaching article's runs of words, so a test can check that the playbook
is written in our own words without the article's text living in this repository.

Usage:
    python -m tools.article_runs ../shared/source/article-losing-a-big-client.fr.txt \
        > tests/data/article-runs.txt

Each output line is the first 16 hex digits of the SHA-256 of one run of `RUN` normalised words
(`bot.flows.normal.normalise`), headings (lines starting with '#') left out; sorted, unique.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

from bot.flows.normal import normalise

RUN = 6
"""Words in a row a playbook text may not share with the article."""


def runs(text: str, size: int = RUN) -> set[tuple[str, ...]]:
    """Every run of `size` normalised words; a quoted answer `{name}` breaks the run."""
    found: set[tuple[str, ...]] = set()
    for piece in re.split(r"\{[a-z0-9_]+\}", text):
        words = normalise(piece).split()
        found.update(tuple(words[i : i + size]) for i in range(len(words) - size + 1))
    return found


def fingerprint(run: tuple[str, ...]) -> str:
    """A run's fingerprint: 16 hex digits of the SHA-256 of its words joined by spaces."""
    return hashlib.sha256(" ".join(run).encode("utf-8")).hexdigest()[:16]


def article_fingerprints(article: str) -> list[str]:
    """The sorted fingerprints of every run of the article's text, headings left out."""
    body = "\n".join(line for line in article.splitlines() if not line.startswith("#"))
    return sorted({fingerprint(run) for run in runs(body)})


def main(argv: list[str]) -> int:
    """Print the fingerprints of the article named by the only argument."""
    if len(argv) != 1:
        print("usage: python -m tools.article_runs ARTICLE.txt", file=sys.stderr)
        return 2
    print("\n".join(article_fingerprints(Path(argv[0]).read_text(encoding="utf-8"))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
