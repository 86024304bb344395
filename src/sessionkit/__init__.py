"""sessionkit: client sessions and claims for behavioural-health practices.

The names an app uses every day are here: the domain objects, :class:`Money`,
the session builder, readiness checks, the calendar import and the root
error. Everything else stays in its module: the errors in
:mod:`sessionkit.errors`, claims in :mod:`sessionkit.claims`, where a session
is billed in :mod:`sessionkit.routing`, storage in :mod:`sessionkit.adapters`
and test helpers in :mod:`sessionkit.testing`. ``docs/api.md`` lists both.

Names that used to be here and moved to their module (``sessionkit.NotFound``,
``sessionkit.build_claims``, ...) still resolve for one release, with a
:class:`DeprecationWarning` naming their module; ``from sessionkit import *``
no longer brings them in.

Each daily name is imported from its module the first time it is used, so
``import sessionkit`` costs next to nothing and a program (or the command
line) pays only for the modules it uses.

Everything in a module whose name starts with an underscore is an
implementation detail.
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING

from sessionkit._version import __version__

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time __getattr__ loads each name on first use
    from sessionkit.appointments import MappingMatcher, NameMatcher
    from sessionkit.builder import DraftWarning, SaveAction, SaveResult, SessionBuilder, SessionDraft
    from sessionkit.domain import (
        AddOnLine,
        Address,
        Authorization,
        BillingCode,
        BillTo,
        Client,
        ClientSession,
        Coverage,
        CoverageRank,
        DiagnosisCode,
        Frequency,
        Modifier,
        Payer,
        PlaceOfService,
        PracticeSetup,
        ReferringProvider,
        Relationship,
        Resubmission,
        SessionStatus,
        Sex,
        Subscriber,
    )
    from sessionkit.errors import InvalidValue, SessionkitError
    from sessionkit.importing import ImportReport, import_appointments
    from sessionkit.money import Money
    from sessionkit.ports import FixedClock, SystemClock
    from sessionkit.readiness import (
        Finding,
        ReadinessContext,
        ReadinessReport,
        Severity,
        Target,
        check,
        check_many,
    )
    from sessionkit.records import to_records

_PUBLIC: dict[str, str] = {
    # the calendar import
    "ImportReport": "sessionkit.importing",
    "MappingMatcher": "sessionkit.appointments",
    "NameMatcher": "sessionkit.appointments",
    "import_appointments": "sessionkit.importing",
    # the session builder
    "DraftWarning": "sessionkit.builder",
    "SaveAction": "sessionkit.builder",
    "SaveResult": "sessionkit.builder",
    "SessionBuilder": "sessionkit.builder",
    "SessionDraft": "sessionkit.builder",
    # the domain
    "AddOnLine": "sessionkit.domain",
    "Address": "sessionkit.domain",
    "Authorization": "sessionkit.domain",
    "BillTo": "sessionkit.domain",
    "BillingCode": "sessionkit.domain",
    "Client": "sessionkit.domain",
    "ClientSession": "sessionkit.domain",
    "Coverage": "sessionkit.domain",
    "CoverageRank": "sessionkit.domain",
    "DiagnosisCode": "sessionkit.domain",
    "Frequency": "sessionkit.domain",
    "Modifier": "sessionkit.domain",
    "Payer": "sessionkit.domain",
    "PlaceOfService": "sessionkit.domain",
    "PracticeSetup": "sessionkit.domain",
    "ReferringProvider": "sessionkit.domain",
    "Relationship": "sessionkit.domain",
    "Resubmission": "sessionkit.domain",
    "SessionStatus": "sessionkit.domain",
    "Sex": "sessionkit.domain",
    "Subscriber": "sessionkit.domain",
    # money, errors, clocks
    "InvalidValue": "sessionkit.errors",
    "Money": "sessionkit.money",
    "SessionkitError": "sessionkit.errors",
    "FixedClock": "sessionkit.ports",
    "SystemClock": "sessionkit.ports",
    # readiness
    "Finding": "sessionkit.readiness",
    "ReadinessContext": "sessionkit.readiness",
    "ReadinessReport": "sessionkit.readiness",
    "Severity": "sessionkit.readiness",
    "Target": "sessionkit.readiness",
    "check": "sessionkit.readiness",
    "check_many": "sessionkit.readiness",
    # flat records
    "to_records": "sessionkit.records",
}
"""The daily names and the module each comes from: the one table of them (``__all__`` and the
``TYPE_CHECKING`` imports above are checked against it by tests/unit/test_lazy_imports.py).

A name's module is imported when the name is first used, so that ``import sessionkit`` (and
``sessionkit check``, which needs no calendar import, builder or records) stays fast."""

__all__ = [
    "AddOnLine",
    "Address",
    "Authorization",
    "BillTo",
    "BillingCode",
    "Client",
    "ClientSession",
    "Coverage",
    "CoverageRank",
    "DiagnosisCode",
    "DraftWarning",
    "Finding",
    "FixedClock",
    "Frequency",
    "ImportReport",
    "InvalidValue",
    "MappingMatcher",
    "Modifier",
    "Money",
    "NameMatcher",
    "Payer",
    "PlaceOfService",
    "PracticeSetup",
    "ReadinessContext",
    "ReadinessReport",
    "ReferringProvider",
    "Relationship",
    "Resubmission",
    "SaveAction",
    "SaveResult",
    "SessionBuilder",
    "SessionDraft",
    "SessionStatus",
    "SessionkitError",
    "Severity",
    "Sex",
    "Subscriber",
    "SystemClock",
    "Target",
    "__version__",
    "check",
    "check_many",
    "import_appointments",
    "to_records",
]

_MOVED: dict[str, str] = {
    # the session builder's less common results
    "AddOnDraft": "sessionkit.builder",
    "NextStep": "sessionkit.builder",
    # the claims API
    "Claim": "sessionkit.claims",
    "ClaimContext": "sessionkit.claims",
    "ClaimLine": "sessionkit.claims",
    "ClaimTarget": "sessionkit.claims",
    "Receiver": "sessionkit.claims",
    "Submitter": "sessionkit.claims",
    "build_claims": "sessionkit.claims",
    "to_837p": "sessionkit.claims",
    "to_cms1500": "sessionkit.claims",
    # rarely used domain values and constants
    "InsuranceOverrides": "sessionkit.domain",
    "OFFICE": "sessionkit.domain",
    "ORIGINAL": "sessionkit.domain",
    "ProviderQualifier": "sessionkit.domain",
    # errors
    "AlreadyExists": "sessionkit.errors",
    "CalendarError": "sessionkit.errors",
    "ClaimNotReady": "sessionkit.errors",
    "ConcurrentUpdate": "sessionkit.errors",
    "DatabaseError": "sessionkit.errors",
    "DocumentError": "sessionkit.errors",
    "DocumentProblem": "sessionkit.errors",
    "FloatMoneyError": "sessionkit.errors",
    "InvalidBillingCode": "sessionkit.errors",
    "InvalidDiagnosisCode": "sessionkit.errors",
    "InvalidEIN": "sessionkit.errors",
    "InvalidModifier": "sessionkit.errors",
    "InvalidNPI": "sessionkit.errors",
    "InvalidPlaceOfService": "sessionkit.errors",
    "InvalidType": "sessionkit.errors",
    "NotFound": "sessionkit.errors",
    "SessionLocked": "sessionkit.errors",
    "TransactionError": "sessionkit.errors",
    # the calendar import's details
    "Appointment": "sessionkit.appointments",
    "InvalidAppointment": "sessionkit.appointments",
    "MatchFailure": "sessionkit.appointments",
    "MatchResult": "sessionkit.appointments",
    "ImportOutcome": "sessionkit.importing",
    "OutcomeKind": "sessionkit.importing",
    # where a session is billed
    "Destination": "sessionkit.routing",
    "route": "sessionkit.routing",
}
"""Names that left the top level, and the module each one lives in (deprecated here for one release)."""


def __getattr__(name: str) -> object:
    """Load a daily name from its module on first use; resolve a moved name with a :class:`DeprecationWarning`."""
    module = _PUBLIC.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value  # from now on a plain attribute
        return value
    module = _MOVED.get(name)
    if module is None:
        raise AttributeError(f"module 'sessionkit' has no attribute {name!r}")
    warnings.warn(
        f"sessionkit.{name} is deprecated and leaves the top level in the next release; "
        f"import it from {module}",
        DeprecationWarning,
        stacklevel=2,
    )
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    """The module's attributes and every daily name, loaded or not."""
    return sorted({*globals(), *__all__})
