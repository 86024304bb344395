"""Money: a Decimal amount with exactly two places, never a float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext
from typing import Union

import attrs

from sessionkit.errors import FloatMoneyError, InvalidType, InvalidValue

__all__ = ["MAX_AMOUNT", "Money", "MoneyLike"]

_CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("99999999.99")
"""The largest amount a claim line can carry (CMS-1500 and X12 837P)."""

_MAX_FACTOR = Decimal(10_000)
"""The largest factor :meth:`Money.times` accepts (a rate, a number of units...)."""
_CONTEXT = Context(prec=60)

MoneyLike = Union["Money", Decimal, int, str]


def _to_amount(value: object) -> Decimal:
    """Turn str, int or Decimal into a Decimal with exactly 2 places, or raise."""
    if isinstance(value, Money):
        return value.amount
    if isinstance(value, float):
        raise FloatMoneyError(
            "money cannot be a float (binary floats cannot hold cents exactly); pass a str, int or Decimal",
            field="amount",
        )
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise InvalidValue("money must be a str, int or Decimal", "money.type", "amount")
    if isinstance(value, str):
        text = value.strip().replace(",", "").removeprefix("$")
        try:
            dec = Decimal(text)
        except InvalidOperation:
            raise InvalidValue("money is not a number", "money.format", "amount") from None
    else:
        dec = Decimal(value)
    if not dec.is_finite():
        raise InvalidValue("money must be a finite number", "money.format", "amount")
    if dec < 0:
        raise InvalidValue("money cannot be negative", "money.negative", "amount")
    if dec > MAX_AMOUNT:
        raise InvalidValue("money is above 99,999,999.99", "money.too_large", "amount")
    quantized = dec.quantize(_CENT)
    if quantized != dec:
        raise InvalidValue("money has more than 2 decimal places", "money.precision", "amount")
    return quantized + 0  # "+ 0" turns a negative zero ("-0") into 0.00


@attrs.frozen(order=True, repr=False)
class Money:
    """An amount in US dollars: a :class:`~decimal.Decimal` with exactly 2 places.

    Built from ``str``, ``int`` or ``Decimal``; a ``float`` is refused. Amounts run
    from 0.00 to 99,999,999.99, the most a claim can carry.

    >>> Money("12.5")
    Money('12.50')
    >>> Money("40") + Money("2.25")
    Money('42.25')
    >>> Money(3)
    Money('3.00')
    """

    amount: Decimal = attrs.field(converter=_to_amount)

    def __repr__(self) -> str:
        return f"Money('{self.amount}')"

    def __str__(self) -> str:
        return f"${self.amount:,.2f}"

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.amount + other.amount)

    def __sub__(self, other: Money) -> Money:
        """Subtract; a result below zero raises (use :meth:`minus_floor`)."""
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.amount - other.amount)

    def minus_floor(self, other: Money) -> Money:
        """``self - other``, or zero when ``other`` is larger."""
        diff = self.amount - other.amount
        return Money(diff) if diff > 0 else Money(0)

    def times(self, factor: Decimal | int | str) -> Money:
        """Multiply by a rate (e.g. coinsurance ``Decimal("0.20")``), rounding half up to the cent.

        :raises InvalidValue: the factor is not a finite number from 0 to 10,000
            (``money.factor_format``, ``money.factor_range``), or the product is above
            the largest amount (``money.too_large``).
        :raises InvalidType: the factor is not a Decimal, int or str (``money.factor_type``).
        :raises FloatMoneyError: the factor is a float.

        >>> Money("100").times(Decimal("0.2")), Money("10").times("1.005")
        (Money('20.00'), Money('10.05'))
        """
        if isinstance(factor, float):
            raise FloatMoneyError("the factor cannot be a float; pass a Decimal or str", field="factor")
        if isinstance(factor, bool) or not isinstance(factor, (Decimal, int, str)):
            raise InvalidType("the factor must be a Decimal, int or str", "money.factor_type", "factor")
        try:
            rate = Decimal(factor.strip() if isinstance(factor, str) else factor)
        except (InvalidOperation, ValueError):
            raise InvalidValue("the factor is not a number", "money.factor_format", "factor") from None
        if not rate.is_finite() or not 0 <= rate <= _MAX_FACTOR:
            raise InvalidValue(
                f"the factor must be a finite number from 0 to {_MAX_FACTOR}", "money.factor_range", "factor"
            )
        with localcontext(_CONTEXT):
            # a rate of at most 10,000 times at most 10^8 dollars fits the context: no Overflow
            product = (self.amount * rate).quantize(_CENT, rounding=ROUND_HALF_UP)
        return Money(product)

    def __bool__(self) -> bool:
        return bool(self.amount)

    @classmethod
    def of(cls, value: MoneyLike) -> Money:
        """Return ``value`` as Money (Money passes through unchanged).

        Amounts given as text or int are cached: a practice's charges repeat,
        and Money is immutable, so the same object can serve every session.
        """
        if type(value) is Money:
            return value
        if type(value) is str or type(value) is int:
            cached = _CACHE.get(value)
            if cached is None:
                cached = cls(value)
                if len(_CACHE) < _CACHE_MAX:
                    _CACHE[value] = cached
            return cached
        return value if isinstance(value, Money) else cls(value)


_CACHE: dict[object, Money] = {}
_CACHE_MAX = 4096
