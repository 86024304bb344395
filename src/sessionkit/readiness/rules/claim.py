"""Claim fields: the date of service, resubmission, line notes."""

from __future__ import annotations

from collections.abc import Sequence

from sessionkit.codes import x12
from sessionkit.domain import ClientSession, Frequency
from sessionkit.readiness.context import ReadinessContext
from sessionkit.readiness.findings import ALL_TARGETS, INSURANCE_TARGETS, Finding, Target
from sessionkit.readiness.registry import Rule
from sessionkit.readiness.rules._common import (
    ERROR,
    NONE,
    NUCC,
    WARNING,
    X12,
    define,
)

_future = define(
    "date_of_service",
    ALL_TARGETS,
    f"{NUCC}, box 24A; {X12}, loop 2400 DTP*472",
    "no date of service is in the future",
)
DATE_FUTURE = _future.code(
    "date_of_service.future",
    ERROR,
    "a date of service is after today",
    hint="bill the session once it has taken place",
)


@_future.checks
def date_of_service(session: ClientSession, context: ReadinessContext) -> Sequence[Finding]:
    """Services are billed after they happen."""
    if session.date_of_service <= context.today:
        return NONE
    return (DATE_FUTURE.at("date_of_service"),)


_resubmission = define(
    "resubmission",
    INSURANCE_TARGETS,
    f"{NUCC}, box 22; {X12}, loop 2300 CLM05-3 and REF*F8",
    "a replacement or void carries the original claim's reference; an original carries none",
)
REFERENCE_MISSING = _resubmission.code(
    "resubmission.reference_missing",
    ERROR,
    "a replacement or void claim needs the payer's original claim reference",
    hint="enter the payer's claim control number from the remittance",
)
REFERENCE_UNEXPECTED = _resubmission.code(
    "resubmission.reference_unexpected",
    ERROR,
    "an original claim carries no original claim reference",
    hint="remove the reference, or set the frequency to replacement (7) or void (8)",
)


@_resubmission.checks
def resubmission(session: ClientSession, context: ReadinessContext) -> Sequence[Finding]:
    """Frequency 7/8 needs the original reference; 1 must not carry one."""
    resub = session.resubmission
    if resub.frequency is Frequency.ORIGINAL:
        if resub.original_reference:
            return (REFERENCE_UNEXPECTED.at("resubmission.original_reference"),)
        return NONE
    if not resub.original_reference:
        return (REFERENCE_MISSING.at("resubmission.original_reference"),)
    return NONE


_note_paper = define(
    "line_note_paper",
    [Target.CMS1500],
    f"{NUCC} (no box for line notes)",
    "a line note cannot be printed on the paper form",
)
NOTE_NOT_PRINTABLE = _note_paper.code(
    "line_note.not_printable",
    WARNING,
    "the line note cannot be printed on the CMS-1500 and will be left off",
    hint="send the claim electronically if the payer needs the note",
)


@_note_paper.checks
def line_note_paper(session: ClientSession, context: ReadinessContext) -> Sequence[Finding]:
    """A line note is dropped from the paper form."""
    return (NOTE_NOT_PRINTABLE.at("line_note"),) if session.line_note else NONE


_note_x12 = define(
    "line_note_x12",
    [Target.X12_837P],
    f"{X12}, loop 2400 NTE*ADD (1-80 characters, basic character set)",
    "a line note is at most 80 characters of the X12 basic character set",
)
NOTE_CHARACTERS = _note_x12.code(
    "line_note.invalid_characters",
    ERROR,
    "the line note has characters outside the X12 basic character set",
    hint="use letters, digits, spaces and ! \" & ' ( ) + , - . / ; ? = only (letters are sent in capitals)",
)
NOTE_TOO_LONG = _note_x12.code(
    "line_note.too_long",
    ERROR,
    "the line note is longer than 80 characters",
    hint="shorten the line note",
)


@_note_x12.checks
def line_note_x12(session: ClientSession, context: ReadinessContext) -> list[Finding]:
    """NTE02 is 1-80 characters of the basic character set (less the separators)."""
    note = session.line_note
    if not note:
        return []
    found = []
    # The writer sends the note in capitals, so lowercase letters are fine here.
    if not x12.is_basic(note):
        found.append(NOTE_CHARACTERS.at("line_note"))
    if len(note) > 80:
        found.append(NOTE_TOO_LONG.at("line_note"))
    return found


DATE_OF_SERVICE_RULE: Rule = _future.rule
"""The ``date_of_service`` rule."""
RESUBMISSION_RULE: Rule = _resubmission.rule
"""The ``resubmission`` rule."""
LINE_NOTE_PAPER_RULE: Rule = _note_paper.rule
"""The ``line_note_paper`` rule."""
LINE_NOTE_X12_RULE: Rule = _note_x12.rule
"""The ``line_note_x12`` rule."""
