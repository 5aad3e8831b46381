"""Nicknames: what a chat accepts as a name, and when two names are the same.

A name is shown to everyone beside every message, so it must be short and must not hide
anything: no control characters, no invisible formatting such as the right-to-left override
U+202E that makes "Ada\u202egnp.exe" display as "Adaexe.png". Two names are the same name if
they look alike after Unicode compatibility normalisation and case folding: "Ada", "ADA" and
"Ａｄａ" (full-width letters) cannot be three people.
"""

from __future__ import annotations

import unicodedata

MAX_NAME = 20  # characters
ZERO_WIDTH_JOINER = "\u200d"  # joins emoji such as 👩‍💻: allowed, though it is a format character


def check_name(raw: str) -> str:
    """The name to use for ``raw`` (spaces at either end removed), or ``ValueError`` saying why
    it is refused."""
    name = raw.strip()
    if not name:
        raise ValueError("a name is needed: add ?name=... or type one")
    if len(name) > MAX_NAME:
        raise ValueError(f"a name holds at most {MAX_NAME} characters, not {len(name)}")
    for char in name:
        if unicodedata.category(char).startswith("C") and char != ZERO_WIDTH_JOINER:
            raise ValueError(f"a name may not hold the invisible character U+{ord(char):04X}")
    return name


def same_name_key(name: str) -> str:
    """The key under which a name is unique: NFKC-normalised and case-folded."""
    return unicodedata.normalize("NFKC", name).casefold()
