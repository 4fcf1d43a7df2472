"""Refunds and refund-review requests.

Invariant: for every payment, the sum of refunds that are approved, processing or
succeeded never exceeds the payment's amount. Approval locks the payment row.
"""

from django.conf import settings
from django.db import models

from accounts.models import Workspace

from .cancellations import CancellationRequest
from .fields import MoneyField, currency_field
from .payments import Payment


class Refund(models.Model):
    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        PROCESSING = "processing", "Processing"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    COMMITTED_STATUSES = (Status.APPROVED, Status.PROCESSING, Status.SUCCEEDED, Status.FAILED)

    class Destination(models.TextChoices):
        ORIGINAL_PAYMENT_METHOD = "original_payment_method", "Original payment method"
        CUSTOMER_CREDIT = "customer_credit", "Customer credit"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="refunds")
    cancellation = models.ForeignKey(
        CancellationRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    review_request = models.ForeignKey(
        "RefundReviewRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="refunds",
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.PROPOSED, db_index=True
    )
    amount = MoneyField()
    tax_amount = MoneyField(default=0)
    currency = currency_field()
    destination = models.CharField(max_length=24, choices=Destination.choices)
    is_goodwill = models.BooleanField(
        default=False, help_text="Not granted by the policy: needs a Billing lead."
    )
    reason = models.TextField(blank=True)
    quote = models.JSONField(default=dict, blank=True)
    snapshot = models.JSONField(
        null=True, blank=True, help_text="The subscription snapshot the quote was computed from."
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)
    idempotency_key = models.CharField(max_length=80, unique=True, help_text="Sent to the gateway.")
    provider_reference = models.CharField(max_length=120, blank=True, db_index=True)
    failure_message = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # The pending-refunds queue shows proposed refunds first, then failed ones, then the
    # rest: stored by the database from `status` so the queue's order has an index.
    queue_position = models.GeneratedField(
        expression=models.Case(
            models.When(status="proposed", then=models.Value(0)),
            models.When(status="failed", then=models.Value(1)),
            default=models.Value(2),
        ),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["queue_position", "created_at", "id"], name="refund_queue_order")
        ]
        permissions = [
            ("propose_refund", "Can propose refunds"),
            ("approve_refund", "Can approve refunds (four eyes)"),
            ("approve_large_refund", "Can approve large and goodwill refunds (Billing lead)"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_positive"),
            models.CheckConstraint(
                condition=models.Q(tax_amount__gte=0, tax_amount__lte=models.F("amount")),
                name="refund_tax_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"Refund #{self.pk}: {self.amount} {self.currency} ({self.get_status_display()})"


class RefundReviewRequest(models.Model):
    """A customer's request for a billing review (orgix clauses 9 and 18)."""

    class Kind(models.TextChoices):
        ACCIDENTAL_PAYMENT = "accidental_payment", "Accidental payment"
        CHARGED_AFTER_CANCELLING = "charged_after_cancelling", "Charged after cancelling"
        ACCIDENTAL_RENEWAL = "accidental_renewal", "Accidental renewal"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        VERIFIED = "verified", "Requester verified"
        REFUND_PROPOSED = "refund_proposed", "Refund proposed"
        ANSWERED = "answered", "Answered without refund"
        CLOSED = "closed", "Closed"

    class Verification(models.TextChoices):
        NONE = "", "Not verified"
        MEMBER = "member", "Requester is a billing member"
        BILLING_EMAIL = "billing_email", "Confirmed from the billing email"
        MANUAL = "manual", "Verified manually"

    workspace = models.ForeignKey(
        Workspace, null=True, blank=True, on_delete=models.SET_NULL, related_name="review_requests"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=28, choices=Kind.choices)
    workspace_name = models.CharField(max_length=200)
    billing_email = models.EmailField()
    approximate_payment_date = models.DateField()
    amount_charged = MoneyField()
    currency = currency_field()
    explanation = models.TextField(max_length=4000)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.SUBMITTED, db_index=True
    )
    verification = models.CharField(
        max_length=16, choices=Verification.choices, default="", blank=True
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    candidate_payments = models.ManyToManyField(Payment, blank=True, related_name="+")
    answer = models.TextField(blank=True, help_text="Shown to the customer.")
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Review #{self.pk}: {self.get_kind_display()} for {self.workspace_name}"
