from django import forms

from billing.models import CancellationRequest
from billing.services.cancellations import MAX_TEXT


class CancellationForm(forms.Form):
    reason = forms.ChoiceField(
        choices=[("", "Choose a reason"), *CancellationRequest.Reason.choices],
        label="Why are you cancelling?",
    )
    reason_text = forms.CharField(
        required=False,
        max_length=MAX_TEXT,
        label="Anything you want to tell us (optional)",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    declined_session = forms.IntegerField(required=False, widget=forms.HiddenInput)
