"""System checks that `manage.py check --deploy` runs for a production configuration."""

from django.conf import settings
from django.core.checks import Error, Tags, register

# Backends that never hand a message to a mail server: a password-reset link sent through
# them ends up in the server's output (console), memory, a file or nowhere.
UNDELIVERED_EMAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
}


@register(Tags.security, deploy=True)
def check_email_is_delivered(app_configs, **kwargs) -> list[Error]:
    if settings.EMAIL_BACKEND not in UNDELIVERED_EMAIL_BACKENDS:
        return []
    return [
        Error(
            f"EMAIL_BACKEND is {settings.EMAIL_BACKEND}: emails (password-reset links, "
            "deletion warnings) would not reach customers.",
            hint="Set EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and EMAIL_HOST.",
            id="backoffice.E001",
        )
    ]
