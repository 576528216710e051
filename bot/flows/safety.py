"""Spotting words of distress in an answer, so the engine can point to professional help."""

from __future__ import annotations

from .model import Safety
from .normal import normalise


def needs_safety_note(safety: Safety, text: str) -> bool:
    """True when `text` holds a safety keyword of any language (whole words; `stem*` prefixes)."""
    padded = f" {normalise(text)} "
    for keyword, prefix in safety.patterns:
        if (f" {keyword}" if prefix else f" {keyword} ") in padded:
            return True
    return False
