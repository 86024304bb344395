"""The exceptions sessionkit raises.

Every exception derives from :class:`SessionkitError`. Leaves also derive from
the closest builtin (``ValueError``, ``TypeError``, ``LookupError``) so that
callers who do not know sessionkit can still catch them.

Each error carries a stable dotted ``code`` and, where it applies, the
``field`` path it is about. Messages never contain the offending value: client
data is protected health information, and a traceback must be safe to paste
into a bug report.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

__all__ = [
    "AlreadyExists",
    "CalendarError",
    "ClaimNotReady",
    "ConcurrentUpdate",
    "DatabaseError",
    "DocumentError",
    "DocumentProblem",
    "FloatMoneyError",
    "InvalidBillingCode",
    "InvalidDiagnosisCode",
    "InvalidEIN",
    "InvalidModifier",
    "InvalidNPI",
    "InvalidPlaceOfService",
    "InvalidType",
    "InvalidValue",
    "NotFound",
    "RuleRegistryError",
    "SessionLocked",
    "SessionkitError",
    "TransactionError",
]


class SessionkitError(Exception):
    """Root of every exception sessionkit raises.

    :param message: plain text, never containing client data.
    :param code: a stable dotted identifier, e.g. ``npi.checksum``.
    :param field: the path of the field concerned, e.g. ``referring_provider.npi``.
    """

    default_code: ClassVar[str] = "sessionkit.error"

    def __init__(self, message: str, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code if code is not None else self.default_code
        self.field = field

    def __str__(self) -> str:
        if self.field:
            return f"{self.message} [{self.code} @ {self.field}]"
        return f"{self.message} [{self.code}]"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep every attribute (code, field and a subclass's extras) on pickling.
        return (self.__class__, (self.message, self.code, self.field), dict(self.__dict__))

    def at(self, prefix: str) -> SessionkitError:
        """Return this error with ``prefix`` put in front of its field path."""
        if self.field:
            sep = "" if self.field.startswith("[") else "."
            self.field = f"{prefix}{sep}{self.field}"
        else:
            self.field = prefix
        return self


class InvalidValue(SessionkitError, ValueError):
    """A value does not have the form its field requires."""

    default_code = "value.invalid"


class InvalidType(InvalidValue, TypeError):
    """A value has the wrong type (a number where text is expected, ...).

    It is both a ``ValueError`` (as every invalid value is) and a ``TypeError``.
    """

    default_code = "value.type"


class InvalidNPI(InvalidValue):
    """Not a valid National Provider Identifier."""

    default_code = "npi.invalid"


class InvalidEIN(InvalidValue):
    """Not a valid employer identification number (tax id)."""

    default_code = "ein.invalid"


class InvalidDiagnosisCode(InvalidValue):
    """Not a well-formed ICD-10-CM code."""

    default_code = "icd10.invalid"


class InvalidBillingCode(InvalidValue):
    """Not a well-formed CPT or HCPCS Level II code."""

    default_code = "hcpcs.invalid"


class InvalidModifier(InvalidValue):
    """Not a well-formed billing code modifier."""

    default_code = "modifier.invalid"


class InvalidPlaceOfService(InvalidValue):
    """Not an assigned CMS place-of-service code."""

    default_code = "pos.invalid"


class FloatMoneyError(SessionkitError, TypeError):
    """Money was given as a float, which cannot hold cents exactly."""

    default_code = "money.float"


class DocumentProblem:
    """One bad field of a document: where it is and what is wrong (never its value)."""

    __slots__ = ("code", "message", "path")

    def __init__(self, path: str, code: str, message: str) -> None:
        self.path = path
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"DocumentProblem(path={self.path!r}, code={self.code!r}, message={self.message!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DocumentProblem):
            return NotImplemented
        return (self.path, self.code, self.message) == (other.path, other.code, other.message)

    def __hash__(self) -> int:
        return hash((self.path, self.code, self.message))

    def __reduce__(self) -> tuple[Any, ...]:
        return (DocumentProblem, (self.path, self.code, self.message))


class DocumentError(SessionkitError, ValueError):
    """A stored or received document could not be read; ``problems`` lists every bad field."""

    default_code = "document.invalid"

    problems: tuple[DocumentProblem, ...]

    def __init__(
        self,
        message: str,
        code: str | None = None,
        field: str | None = None,
        problems: Sequence[DocumentProblem] = (),
    ) -> None:
        super().__init__(message, code, field)
        self.problems = tuple(problems)

    def __str__(self) -> str:
        head = super().__str__()
        if not self.problems:
            return head
        lines = [head] + [f"  {p.path}: {p.message} [{p.code}]" for p in self.problems]
        return "\n".join(lines)


class NotFound(SessionkitError, LookupError):
    """A record asked for by id does not exist."""

    default_code = "record.not_found"


class AlreadyExists(SessionkitError, ValueError):
    """``add`` was given a record whose key is taken, or an appointment key is already used."""

    default_code = "record.exists"


class TransactionError(SessionkitError, RuntimeError):
    """A unit of work was used outside its ``with`` block, or entered twice."""

    default_code = "uow.inactive"


class RuleRegistryError(SessionkitError, KeyError):
    """A readiness rule name is unknown, or already taken."""

    default_code = "readiness.rule_name"

    def __str__(self) -> str:  # KeyError would quote the message
        return SessionkitError.__str__(self)


class SessionLocked(SessionkitError, ValueError):
    """An insurance EOB has been posted: paid-at-session can no longer change."""

    default_code = "session.locked"


class ConcurrentUpdate(SessionkitError, RuntimeError):
    """The record was changed by someone else since it was read."""

    default_code = "record.concurrent_update"


class DatabaseError(SessionkitError, OSError):
    """A database file cannot be used (not sessionkit's, too new, damaged)."""

    default_code = "database.invalid"


class CalendarError(SessionkitError, ValueError):
    """A calendar file cannot be read; the message says where."""

    default_code = "calendar.invalid"


class ClaimNotReady(SessionkitError, ValueError):
    """A session is not ready for the claim target; ``findings`` says why."""

    default_code = "claim.not_ready"

    def __init__(
        self,
        message: str,
        code: str | None = None,
        field: str | None = None,
        findings: Sequence[Any] = (),
    ) -> None:
        super().__init__(message, code, field)
        self.findings = tuple(findings)
