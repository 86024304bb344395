"""An in-memory card gateway for tests and examples: test tokens for every outcome.

:class:`TestGateway` satisfies :class:`sessionkit.payments.PaymentGateway`
the way a real processor does: it is idempotent on the idempotency key (asked
again with a key, it answers the first outcome and moves no money again), and
:meth:`~TestGateway.lookup` tells the outcome of a charge whose answer was
lost. It records every call, so a test can assert that no key was charged
twice (:meth:`~TestGateway.money_moved`).

The test tokens (any other token is declined ``invalid_token``):

============================== ====================================================================
token                          outcome
============================== ====================================================================
:data:`APPROVE`                approved
:data:`DECLINE` ``_<code>``    declined with ``<code>``: :data:`DECLINE_INSUFFICIENT_FUNDS`,
                               :data:`DECLINE_EXPIRED_CARD`, :data:`DECLINE_CARD_DECLINED`
:data:`TIMEOUT_APPROVE`        the charge goes through but the call times out; lookup: approved
:data:`TIMEOUT_DECLINE`        the call times out; lookup: declined ``card_declined``
:data:`TIMEOUT_LOST`           the request never reached the processor; lookup: declined ``no_such_charge``
============================== ====================================================================

>>> from sessionkit.money import Money
>>> gateway = TestGateway()
>>> gateway.charge(Money("25"), APPROVE, "k1").outcome.value
'approved'
>>> gateway.charge(Money("25"), APPROVE, "k1") == gateway.lookup("k1"), gateway.money_moved("k1")
(True, 1)
>>> gateway.charge(Money("25"), DECLINE_EXPIRED_CARD, "k2").decline_code
'expired_card'
"""

from __future__ import annotations

import collections

import attrs

from sessionkit.money import Money
from sessionkit.payments import ChargeOutcome, ChargeResult

__all__ = [
    "APPROVE",
    "DECLINE",
    "DECLINE_CARD_DECLINED",
    "DECLINE_EXPIRED_CARD",
    "DECLINE_INSUFFICIENT_FUNDS",
    "TIMEOUT_APPROVE",
    "TIMEOUT_DECLINE",
    "TIMEOUT_LOST",
    "GatewayCall",
    "GatewayTimeout",
    "TestGateway",
]

APPROVE = "tok_approve"
DECLINE = "tok_decline"
DECLINE_INSUFFICIENT_FUNDS = "tok_decline_insufficient_funds"
DECLINE_EXPIRED_CARD = "tok_decline_expired_card"
DECLINE_CARD_DECLINED = "tok_decline_card_declined"
TIMEOUT_APPROVE = "tok_timeout_approve"
TIMEOUT_DECLINE = "tok_timeout_decline"
TIMEOUT_LOST = "tok_timeout_lost"

_REASONS = {
    "insufficient_funds": "the card has insufficient funds",
    "expired_card": "the card has expired",
    "card_declined": "the card was declined",
}


class GatewayTimeout(TimeoutError):
    """The test gateway's timeout (what a real client library raises after its deadline)."""


@attrs.frozen(kw_only=True)
class GatewayCall:
    """One call to :meth:`TestGateway.charge`: what was asked and what the processor did."""

    idempotency_key: str
    amount: Money
    token: str
    outcome: ChargeOutcome
    """What happened at the processor (even when the caller got a timeout)."""
    replayed: bool
    """True when the key had been seen: the first outcome was answered again, no money moved."""


class TestGateway:
    """A card processor in memory (see the module's table of test tokens).

    ``charges`` holds every charge call in order; :meth:`money_moved` counts
    the approved charges made for a key (0 or 1: the gateway is idempotent).
    """

    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        self.calls: list[GatewayCall] = []
        self.lookups: list[str] = []
        self._outcomes: dict[str, tuple[ChargeResult, Money, str]] = {}
        self._lost: set[str] = set()
        self._seq = 0

    def _decide(self, token: str) -> tuple[ChargeResult, bool]:
        """The processor's outcome for ``token``, and whether the caller gets a timeout instead."""
        if token == APPROVE:
            return self._approved(), False
        if token == TIMEOUT_APPROVE:
            return self._approved(), True
        if token == TIMEOUT_DECLINE:
            return ChargeResult.declined("card_declined", _REASONS["card_declined"]), True
        if token.startswith(DECLINE):
            code = token.removeprefix(DECLINE).lstrip("_") or "card_declined"
            return ChargeResult.declined(code, _REASONS.get(code, "the card was declined")), False
        return ChargeResult.declined("invalid_token", "the token is unknown to the processor"), False

    def _approved(self) -> ChargeResult:
        self._seq += 1
        return ChargeResult.approved(f"ch_test_{self._seq:06d}")

    def charge(self, amount: Money, token: str, idempotency_key: str) -> ChargeResult:
        """Charge ``amount`` to ``token`` once per key; raises :class:`GatewayTimeout` for the timeout tokens."""
        seen = self._outcomes.get(idempotency_key)
        if seen is not None:
            result, first_amount, first_token = seen
            if (first_amount, first_token) != (amount, token):
                return ChargeResult.declined("idempotency_key_in_use", "the key was used for another charge")
            self.calls.append(
                GatewayCall(
                    idempotency_key=idempotency_key,
                    amount=amount,
                    token=token,
                    outcome=result.outcome,
                    replayed=True,
                )
            )
            return result
        if token == TIMEOUT_LOST and idempotency_key not in self._lost:
            self._lost.add(idempotency_key)  # never reached the processor: nothing recorded
            raise GatewayTimeout("the request to the processor timed out")
        result, timeout = self._decide(token)
        self._outcomes[idempotency_key] = (result, amount, token)
        self.calls.append(
            GatewayCall(
                idempotency_key=idempotency_key,
                amount=amount,
                token=token,
                outcome=result.outcome,
                replayed=False,
            )
        )
        if timeout:
            raise GatewayTimeout("the request to the processor timed out")
        return result

    def lookup(self, idempotency_key: str) -> ChargeResult:
        """The outcome of the charge made with the key; declined ``no_such_charge`` when none was made."""
        self.lookups.append(idempotency_key)
        seen = self._outcomes.get(idempotency_key)
        if seen is None:
            return ChargeResult.declined("no_such_charge", "no charge was made with this key")
        return seen[0]

    def money_moved(self, idempotency_key: str) -> int:
        """How many approved charges moved money for the key (never more than 1)."""
        return sum(
            1
            for c in self.calls
            if c.idempotency_key == idempotency_key and c.outcome is ChargeOutcome.APPROVED and not c.replayed
        )

    def approved(self) -> dict[str, tuple[str, Money]]:
        """Every key whose charge went through: its charge id and amount."""
        return {
            key: (result.charge_id or "", amount)
            for key, (result, amount, _token) in self._outcomes.items()
            if result.outcome is ChargeOutcome.APPROVED
        }

    def charge_counts(self) -> collections.Counter[str]:
        """How many times ``charge`` was called per key (replays included)."""
        return collections.Counter(c.idempotency_key for c in self.calls)
