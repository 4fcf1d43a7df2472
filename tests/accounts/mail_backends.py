"""Mail backends that misbehave the way real mail servers and workers do."""

from django.core.mail.backends.locmem import EmailBackend


class WorkerKilled(BaseException):
    """Stands for SIGKILL: no `except Exception` handler runs, open transactions roll back."""


class RefusingBackend(EmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp down")


class DyingBackend(EmailBackend):
    """Accepts `accept` messages (into `mail.outbox`) over all its connections, then the
    worker dies while handing over the next one."""

    accept = 0
    accepted = 0

    def send_messages(self, messages):
        for message in messages:
            if DyingBackend.accepted >= DyingBackend.accept:
                raise WorkerKilled
            DyingBackend.accepted += 1
            super().send_messages([message])
        return len(messages)
