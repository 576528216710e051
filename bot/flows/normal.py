"""Text normalisation for matching what people type against expected words."""

from __future__ import annotations

import unicodedata


def normalise(text: str) -> str:
    """Lower case, accents removed, punctuation turned into single spaces (for matching)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join("".join(char if char.isalnum() else " " for char in bare).split())
