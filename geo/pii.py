"""Detection of personal data in free text (names, phone numbers, e-mail, personnummer, plates).

Citizen reports are moderated before they are used or shown; :func:`detect` flags text
that *seems* to contain personal data so a moderator looks twice and can redact it with
:func:`redact`. It is a heuristic: it prefers a false flag to a missed one, and it never
decides on its own.

==================  ==========================================================================
kind                what is flagged
==================  ==========================================================================
``email``           ``namn@example.se``
``personnummer``    ``YYMMDD-NNNN``, ``YYYYMMDDNNNN``, ``YYMMDD+NNNN`` with a valid date part
                    **and** a valid Luhn check digit (an invalid checksum is not a personnummer)
``samordningsnummer`` as personnummer with the day + 60 (61-91), Luhn-checked
``phone``           Swedish numbers: ``070-123 45 67``, ``08-123 456 78``, ``+46 70 123 45 67``,
                    ``0046 8 123 456``, ``0176-123 45`` (8-10 digits nationally)
``plate``           vehicle registrations ``ABC 123`` and ``ABC 12A`` (letters without I, Q, V)
``name``            a common Swedish first name (:data:`FIRST_NAMES`) followed by a capitalised
                    word, or a capitalised word followed by a surname-like word (-son, -berg …)
==================  ==========================================================================

Findings carry only the kind and the character span: callers store flags, never the
matched text.

Examples
--------
>>> [f.kind for f in detect("Ring Anna Svensson på 070-123 45 67")]
['name', 'phone']
>>> redact("Mejla kalle@example.se")
'Mejla [e-post]'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Kinds of personal data, in the order overlapping findings are resolved (first wins).
KINDS: tuple[str, ...] = (
    "email",
    "personnummer",
    "samordningsnummer",
    "phone",
    "plate",
    "name",
)

#: Swedish label of each kind (shown to moderators and used by :func:`redact`).
KIND_LABEL_SV: dict[str, str] = {
    "email": "e-post",
    "personnummer": "personnummer",
    "samordningsnummer": "samordningsnummer",
    "phone": "telefonnummer",
    "plate": "registreringsnummer",
    "name": "namn",
}

_NAMES_TEXT = """
    Agnes Agneta Alice Alma Alva Amanda Amelia Ann Anna Anneli Annika Astrid Birgitta Britt
    Camilla Carina Caroline Cecilia Christina Ebba Elin Elisabeth Ella Ellen Elsa Elvira Emelie
    Emma Eva Felicia Freja Frida Gun Gunilla Hanna Hedda Helena Ida Inger Ingrid Ines Iris
    Isabelle Jenny Jessica Johanna Josefin Julia Karin Katarina Kerstin Klara Kristina Lena
    Lilly Linda Linnea Lisa Liv Louise Lova Madeleine Maja Malin Margareta Maria Marianne Marie
    Matilda Mikaela Mira Moa Monica Märta Nora Olivia Petra Rebecka Saga Sandra Sara Selma
    Signe Sigrid Siv Sofia Stina Susanne Therese Tilda Tove Tyra Ulla Ulrika Vera Wilma Yvonne
    Åsa Adam Ahmed Albin Alexander Alfred Ali Anders Andreas Anton Arne Arvid Axel Bengt
    Benjamin Bo Björn Christer Christian Claes Daniel David Ebbe Edvin Elias Elton Emil Erik
    Filip Fredrik Gunnar Gustav Göran Hans Harry Hassan Henrik Hugo Ingvar Isak Jakob Jan
    Jimmy Joakim Johan Johannes Jonas Karl Kent Kjell Kristoffer Leif Lennart Leo Liam Lars
    Lucas Ludvig Magnus Marcus Martin Mats Mattias Melvin Mikael Mohammed Mohamed Muhammad
    Niklas Nils Noah Olle Oliver Olof Omar Oskar Patrik Per Peter Pontus Rasmus Robert Roger
    Rolf Rune Samuel Sebastian Simon Sixten Stefan Sven Theo Thomas Tobias Tommy Torbjörn
    Ulf Viktor Vincent William Åke Kalle Pelle Nisse Janne Micke Lasse Jocke Sanna Tina Mona
    Jonna Fatima Amir Yusuf Sara Leila Sofie Hampus Linus Max Otto Charlie Love Valter Vilgot
"""
#: Common Swedish first names and short forms (SCB name statistics, most frequent).
FIRST_NAMES: frozenset[str] = frozenset(_NAMES_TEXT.split())

_SURNAME_SUFFIX = (
    r"(?:s?son|sen|berg|bergh|ström|strom|lund|qvist|kvist|quist|gren|gr[eé]n|dahl|dal|holm|"
    r"blad|stedt|stad|mark|ling|man|ell|ius|ander|sköld|fors|hag|vall|bäck|löf|löv|nér|ner)"
)
_UPPER = "A-ZÅÄÖÉÜ"
_LOWER = "a-zåäöéü"
_CAP_WORD = rf"[{_UPPER}][{_LOWER}]+(?:-[{_UPPER}][{_LOWER}]+)?"

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+%-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?!\w)")
_PNR = re.compile(r"(?<![\d\w])(\d{2})?(\d{2})(\d{2})(\d{2})\s?([-+])?\s?(\d{4})(?![\d\w])")
_PHONE = re.compile(r"(?<![\w+])(?:\+46|0046|0)(?:[\s\-–]*\(0\))?(?:[ \-–/]{0,3}\d){6,12}(?!\d)")
_PLATE_SPACED = re.compile(r"(?<![\w])[A-HJ-PR-UW-Z]{3} \d{2}[0-9A-HJ-NPR-UW-Za-hj-npr-uw-z](?!\w)")
_PLATE_COMPACT = re.compile(
    r"(?<![\w])[A-HJ-PR-UW-Za-hj-pr-uw-z]{3}\d{2}[0-9A-HJ-NPR-UW-Za-hj-npr-uw-z](?!\w)"
)
_NAME_LISTED = re.compile(rf"(?<![\w])({_CAP_WORD})((?:\s+{_CAP_WORD})+)")
_CAP_FOLLOWED = re.compile(rf"(?<![\w])({_CAP_WORD})(?=\s+[{_UPPER}])")
_NAME_SURNAME = re.compile(
    rf"(?<![\w])({_CAP_WORD})\s+([{_UPPER}][{_LOWER}]{{2,}}{_SURNAME_SUFFIX})(?![\w])"
)


@dataclass(frozen=True)
class Finding:
    """One span of ``text`` that seems to be personal data.

    Attributes
    ----------
    kind
        One of :data:`KINDS`.
    start, end
        Character span in the analysed text (``text[start:end]``).
    """

    kind: str
    start: int
    end: int

    @property
    def label_sv(self) -> str:
        """Swedish name of the kind."""
        return KIND_LABEL_SV[self.kind]


def luhn_ok(digits: str) -> bool:
    """Whether ``digits`` (only 0-9) pass the Luhn (mod 10) check used by personnummer."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def classify_personal_number(text: str) -> str | None:
    """``"personnummer"``, ``"samordningsnummer"`` or None for one candidate number.

    Accepts ``YYMMDD-NNNN``, ``YYMMDD+NNNN``, ``YYMMDDNNNN`` and the 12-digit forms. The
    month must be 01-12, the day 01-31 (61-91 for a samordningsnummer) and the ten digits
    ``YYMMDDNNNC`` must pass the Luhn check; otherwise it is not a personal number.

    Examples
    --------
    >>> classify_personal_number("811218-9876")
    'personnummer'
    >>> classify_personal_number("811218-9875") is None
    True
    """
    m = _PNR.fullmatch(text.strip())
    if m is None:
        return None
    century, yy, mm, dd, _sep, tail = m.groups()
    if century is not None and century not in ("18", "19", "20"):
        return None
    month, day = int(mm), int(dd)
    if not 1 <= month <= 12:
        return None
    if 1 <= day <= 31:
        kind = "personnummer"
    elif 61 <= day <= 91:
        kind = "samordningsnummer"
    else:
        return None
    return kind if luhn_ok(yy + mm + dd + tail) else None


def _phone_ok(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate.replace("(0)", ""))
    if candidate.startswith("+46"):
        national = "0" + digits[2:]
    elif candidate.startswith("0046"):
        national = "0" + digits[4:]
    else:
        national = digits
    return national.startswith("0") and national[1:2] not in ("", "0") and 8 <= len(national) <= 10


def _phone_end(candidate: str) -> int:
    """Length of the longest prefix of ``candidate`` (ending in a digit group) that is a phone."""
    ends = [m.end() for m in re.finditer(r"\d+", candidate)]
    for end in reversed(ends):
        if _phone_ok(candidate[:end]):
            return end
    return 0


def detect(text: str | None) -> list[Finding]:
    """Every span of ``text`` that seems to be personal data, ordered by position.

    Overlapping candidates are resolved in the order of :data:`KINDS` (an e-mail address
    wins over a name inside it; a valid personnummer wins over a phone-like number).
    """
    if not text:
        return []
    found: list[Finding] = []

    def add(kind: str, start: int, end: int) -> None:
        if any(start < f.end and f.start < end for f in found):
            return
        found.append(Finding(kind, start, end))

    for m in _EMAIL.finditer(text):
        add("email", m.start(), m.end())
    for m in _PNR.finditer(text):
        kind = classify_personal_number(m.group(0))
        if kind is not None:
            add(kind, m.start(), m.end())
    for m in _PHONE.finditer(text):
        end = _phone_end(m.group(0))
        if end:
            add("phone", m.start(), m.start() + end)
    for m in _PLATE_SPACED.finditer(text):
        add("plate", m.start(), m.end())
    for m in _PLATE_COMPACT.finditer(text):
        if any(c.isdigit() for c in m.group(0)):
            add("plate", m.start(), m.end())
    for m in _CAP_FOLLOWED.finditer(text):
        if m.group(1).split("-")[0] in FIRST_NAMES:
            tail = _NAME_LISTED.match(text, m.start())
            if tail is not None:
                add("name", tail.start(), tail.end())
    for m in _NAME_SURNAME.finditer(text):
        add("name", m.start(), m.end())
    return sorted(found, key=lambda f: f.start)


def flags(text: str | None) -> list[str]:
    """The kinds found in ``text`` (sorted, without duplicates)."""
    return sorted({f.kind for f in detect(text)})


def redact(text: str, findings: list[Finding] | None = None) -> str:
    """``text`` with each finding replaced by ``[<Swedish label>]``.

    Examples
    --------
    >>> redact("Bilen ABC 123 stod där")
    'Bilen [registreringsnummer] stod där'
    """
    spans = sorted(detect(text) if findings is None else findings, key=lambda f: f.start)
    out: list[str] = []
    pos = 0
    for f in spans:
        if f.start < pos:
            continue
        out.append(text[pos : f.start])
        out.append(f"[{f.label_sv}]")
        pos = f.end
    out.append(text[pos:])
    return "".join(out)


__all__ = [
    "FIRST_NAMES",
    "KINDS",
    "KIND_LABEL_SV",
    "Finding",
    "classify_personal_number",
    "detect",
    "flags",
    "luhn_ok",
    "redact",
]
