"""The extra context of a customer email, as plain JSON for the Celery message.

Emails are rendered in a task, after the change committed, so what a service hands over
must survive serialisation: model instances travel as references (reloaded in the task),
dataclasses as dicts (templates read `breach.message` from a dict just the same),
datetimes as ISO strings, Decimals as strings."""

from dataclasses import asdict, is_dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import models


def payload_encode(value: Any) -> Any:
    if isinstance(value, models.Model):
        return {"__model__": value._meta.label, "pk": value.pk}
    if isinstance(value, datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, Decimal):
        return str(value)
    if is_dataclass(value) and not isinstance(value, type):
        return payload_encode(asdict(value))
    if isinstance(value, dict):
        return {key: payload_encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [payload_encode(item) for item in value]
    return value


def payload_decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "__model__" in value:
            return (
                apps.get_model(value["__model__"])._default_manager.filter(pk=value["pk"]).first()
            )
        if "__datetime__" in value:
            return datetime.fromisoformat(value["__datetime__"])
        return {key: payload_decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [payload_decode(item) for item in value]
    return value
