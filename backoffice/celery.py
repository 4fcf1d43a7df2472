"""The Celery app. Beat schedules live in the database (django-celery-beat)."""

import logging.config
import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

app = Celery("backoffice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def use_the_redacting_log_config(**kwargs) -> None:
    """Workers and beat log through settings.LOGGING (redacted, backoffice/logging.py);
    without a receiver here Celery would replace the root handlers with its own."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
