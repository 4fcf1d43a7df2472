"""The quote: what happens if the customer cancels (or changes plan) at a given moment.

Computed by `billing.policy.engine.quote_cancellation(*, rules, policy_label, snapshot, at)`
and `quote_plan_change(...)`, which are pure: no database, no clock. This module holds only
the results, so the engine's modules import it and it imports none of them. Money is
computed exactly and rounded once, half-up, to the currency's minor unit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from .closure import RetainedPart
from .rules import Destination, Effective, Fallback

T = TypeVar("T")
_new = object.__new__


def built(cls: type[T], /, **fields: Any) -> T:
    """The frozen dataclass `cls` with `fields`, for the engine's hot path: its `__init__`
    sets each field through `object.__setattr__` (plain assignment is refused), which for
    a quote's 17 fields and its lines costs more than the rest of a simple quote. This
    fills the instance's dict in one go: the same object, equal, hashing and frozen like
    one from `cls(...)`. Only for the result classes below (no `__post_init__`, no
    `__slots__`), given every field (tests check both against the constructor)."""
    made = _new(cls)
    made.__dict__.update(fields)
    return made


@dataclass(frozen=True)
class QuoteLine:
    label: str  # what a customer understands
    amount: Decimal  # positive adds to the refund, negative deducts
    clause: str  # the policy clause it applies
    payment_ref: str | None = None


def quote_line(
    label: str, amount: Decimal, clause: str, payment_ref: str | None = None
) -> QuoteLine:
    """`QuoteLine(...)` on the engine's hot path (see `built`): a dozen per quote."""
    made = _new(QuoteLine)
    made.__dict__.update(label=label, amount=amount, clause=clause, payment_ref=payment_ref)
    return made


@dataclass(frozen=True)
class PlanChangeLine(QuoteLine):
    """A plan-change line and the time it is for (a credit for the old plan's unused part,
    or a charge for the new plan over the same remainder)."""

    period_start: datetime | None = None
    period_end: datetime | None = None


@dataclass(frozen=True)
class PaymentRefund:
    """How much of one payment the quote refunds (refunds are executed per payment)."""

    payment_ref: str
    amount: Decimal
    tax: Decimal


class Alternative:
    """The same cancellation run to the period end (a timing choice), worked out when first
    read: most readers of a quote never look at it, and it costs as much as the quote. It
    compares and hashes as the quote it stands for, so quotes stay values."""

    __slots__ = ("_make", "_quote")

    def __init__(self, make: Callable[[], Quote]) -> None:
        self._make: Callable[[], Quote] | None = make
        self._quote: Quote | None = None

    @property
    def quote(self) -> Quote:
        if self._make is not None:
            self._quote, self._make = self._make(), None
        return self._quote  # type: ignore[return-value]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Alternative) and self.quote == other.quote

    def __hash__(self) -> int:
        return hash(self.quote)

    def __repr__(self) -> str:
        return f"Alternative({self.quote!r})"


@dataclass(frozen=True)
class QuoteTerms:
    """What conditions, charges, timing choice, retention horizons and credit rules add to
    a quote. Kept apart so a quote under rules that use none of them shares one empty
    instance: a frozen dataclass costs per field to build, and quotes are built by the
    ten thousand."""

    # What is charged at cancellation; the amounts add up to `amount_due`.
    due_lines: tuple[QuoteLine, ...] = ()
    variants: tuple[str, ...] = ()  # names of the policy variants that applied
    credit_expires_at: datetime | None = None  # credit given by this quote expires then
    credit_payout: Decimal = Decimal("0")  # credit balance paid out at closure
    data_kept: tuple[RetainedPart, ...] = ()  # parts kept on their own horizon
    timing_choice: bool = False  # the customer may pick this quote or `alternative`
    alternative: Alternative | None = None  # the same cancellation, run to the period end


NO_TERMS = QuoteTerms()


@dataclass(frozen=True)
class Quote:
    policy: str  # slug@version
    currency: str
    refund: Decimal
    tax_refund: Decimal  # included in `refund`
    destination: Destination
    amount_due: Decimal
    effective: Effective
    ends_at: datetime
    access_until: datetime
    data_retained_until: datetime | None
    fallback: Fallback
    notice_applied: bool  # the request fell inside the notice window: ends a period later
    refusal: str | None
    lines: tuple[QuoteLine, ...]
    payment_refunds: tuple[PaymentRefund, ...]
    # The last minute of the refund window, in the policy's time zone (None: no window).
    refund_window_until: datetime | None = None
    terms: QuoteTerms = NO_TERMS

    # What the general rules add, read as the quote's own (see `QuoteTerms`).
    @property
    def due_lines(self) -> tuple[QuoteLine, ...]:
        return self.terms.due_lines

    @property
    def variants(self) -> tuple[str, ...]:
        return self.terms.variants

    @property
    def credit_expires_at(self) -> datetime | None:
        return self.terms.credit_expires_at

    @property
    def credit_payout(self) -> Decimal:
        return self.terms.credit_payout

    @property
    def data_kept(self) -> tuple[RetainedPart, ...]:
        return self.terms.data_kept

    @property
    def timing_choice(self) -> bool:
        return self.terms.timing_choice

    @property
    def alternative(self) -> Quote | None:
        alternative = self.terms.alternative
        return alternative.quote if alternative is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "currency": self.currency,
            "refund": str(self.refund),
            "tax_refund": str(self.tax_refund),
            "destination": self.destination.value,
            "amount_due": str(self.amount_due),
            "effective": self.effective.value,
            "ends_at": self.ends_at.isoformat(),
            "access_until": self.access_until.isoformat(),
            "data_retained_until": self.data_retained_until.isoformat()
            if self.data_retained_until
            else None,
            "fallback": self.fallback.value,
            "notice_applied": self.notice_applied,
            "refusal": self.refusal,
            "lines": [
                {
                    "label": line.label,
                    "amount": str(line.amount),
                    "clause": line.clause,
                    "payment_ref": line.payment_ref,
                }
                for line in self.lines
            ],
            "payment_refunds": [
                {"payment_ref": p.payment_ref, "amount": str(p.amount), "tax": str(p.tax)}
                for p in self.payment_refunds
            ],
            "refund_window_until": self.refund_window_until.isoformat()
            if self.refund_window_until
            else None,
            "due_lines": [_line(line) for line in self.due_lines],
            "variants": list(self.variants),
            "credit_expires_at": _moment(self.credit_expires_at),
            "credit_payout": str(self.credit_payout),
            "data_kept": [
                {"what": part.what, "until": _moment(part.until), "clause": part.clause}
                for part in self.data_kept
            ],
            "timing_choice": self.timing_choice,
            "alternative": self.alternative.to_dict() if self.alternative else None,
        }


def _line(line: QuoteLine) -> dict[str, Any]:
    return {"label": line.label, "amount": str(line.amount), "clause": line.clause}


def _moment(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@dataclass(frozen=True)
class PlanChangeQuote:
    """What a plan change costs or refunds now, and when it takes effect."""

    policy: str
    currency: str
    direction: str  # "upgrade", "downgrade" or "same"
    charge_now: Decimal
    refund: Decimal
    effective_at: datetime
    notice_applied: bool
    lines: tuple[QuoteLine, ...]

    @property
    def net(self) -> Decimal:
        """The sum of the lines: positive is charged now, negative is credited."""
        return sum((line.amount for line in self.lines), Decimal("0"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "currency": self.currency,
            "direction": self.direction,
            "charge_now": str(self.charge_now),
            "refund": str(self.refund),
            "net": str(self.net),
            "effective_at": self.effective_at.isoformat(),
            "notice_applied": self.notice_applied,
            "lines": [
                {
                    "label": line.label,
                    "amount": str(line.amount),
                    "clause": line.clause,
                    "period_start": _iso(getattr(line, "period_start", None)),
                    "period_end": _iso(getattr(line, "period_end", None)),
                }
                for line in self.lines
            ],
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
