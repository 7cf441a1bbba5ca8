"""Text rules the domains' schemas share: codes and numbers are ASCII digits, and names and
texts hold no invisible control or format characters.

Python's ``\\d``, ``str.isdigit``, ``int`` and ``Decimal`` accept any Unicode digit
(``２７１０００１４``, Arabic-Indic ``٢٧١``): a code written so would name the same thing as
its ASCII twin yet compare unequal to it. Bidi overrides (U+202A-U+202E, U+2066-U+2069),
zero-width characters and other format (Cf) or control (Cc) characters make a name read
otherwise than it is stored; line breaks and tabs are kept only in multi-line texts.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

# Control (Cc), format (Cf: bidi controls, zero-width space/joiners, U+FEFF, soft hyphen, ...)
# and lone surrogates (Cs, which no UTF-8 text can hold).
INVISIBLE = frozenset({"Cc", "Cf", "Cs"})
# Line and paragraph separators end a line as a newline does.
LINE_BREAKS = frozenset({"Zl", "Zp"})
# A multi-line text keeps tabs and line breaks, and the zero-width (non-)joiners that
# emoji sequences and some scripts need; a one-line name keeps none of them.
MULTI_LINE_ALLOWED = frozenset("\t\n\r\u200c\u200d")


def _first_hidden(value: str, *, multi_line: bool) -> str | None:
    for char in value:
        category = unicodedata.category(char)
        if category in INVISIBLE:
            if multi_line and char in MULTI_LINE_ALLOWED:
                continue
            return char
        if category in LINE_BREAKS and not multi_line:
            return char
    return None


def _describe(char: str) -> str:
    name = unicodedata.name(char, "") or {"\t": "TAB", "\n": "LINE FEED", "\r": "CR"}.get(
        char, "a control character"
    )
    return f"U+{ord(char):04X} {name}"


def one_line(value: str) -> str:
    """A name or title: visible text on one line."""
    hidden = _first_hidden(value, multi_line=False)
    if hidden is not None:
        raise ValueError(
            f"must be one line of visible text; it contains {_describe(hidden)} "
            "(control, format and bidi characters are refused)"
        )
    return value


def lines(value: str) -> str:
    """A multi-line text: visible text, tabs and line breaks."""
    hidden = _first_hidden(value, multi_line=True)
    if hidden is not None:
        raise ValueError(
            f"must be visible text; it contains {_describe(hidden)} "
            "(control, format and bidi characters are refused)"
        )
    return value


def ascii_number(value: Any) -> Any:
    """Before a number is parsed: a number given as text is written with ASCII digits."""
    if isinstance(value, str) and not value.isascii():
        raise ValueError("write numbers with the ASCII digits 0-9")
    return value


def ascii_digits(value: str, length: int) -> bool:
    return len(value) == length and value.isascii() and value.isdigit()


def ico_is_valid(ico: str) -> bool:
    """IČO: 8 ASCII digits, the last a mod-11 check digit over the first seven (weights 8..2)."""
    if not ascii_digits(ico, 8):
        return False
    total = sum(int(d) * w for d, w in zip(ico[:7], range(8, 1, -1), strict=True))
    return (11 - total % 11) % 10 == int(ico[7])


def _ico(value: str) -> str:
    if not ico_is_valid(value):
        raise ValueError("not a valid IČO (8 digits with a mod-11 check digit)")
    return value


OneLine = AfterValidator(one_line)
Lines = AfterValidator(lines)
AsciiNumber = BeforeValidator(ascii_number)

OneLineText = Annotated[str, OneLine]
MultiLineText = Annotated[str, Lines]
MunicipalityCode = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{6}$"),
    Field(description="Municipality code (kód obce), 6 digits", examples=["554979"]),
]
Ico = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{8}$"),
    AfterValidator(_ico),
    Field(description="IČO: 8 digits with the mod-11 check digit", examples=["00064581"]),
]
MUNICIPALITY_CODE_PATTERN = r"^[0-9]{6}$"
