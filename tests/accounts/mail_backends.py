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


class SlowFileBackend(EmailBackend):
    """One file per accepted message in `$MAIL_DIR`, written before the next is taken, with
    a pause after each: a process killed mid-delivery leaves exactly the accepted ones
    (`*.eml`; a message being written is a `*.partial` file)."""

    def send_messages(self, messages):
        import os
        import time
        import uuid

        for message in messages:
            path = os.path.join(os.environ["MAIL_DIR"], f"{uuid.uuid4().hex}.eml")
            # Written aside, then renamed: a message is accepted whole or not at all, as
            # with a mail server (a kill between open and write left an empty .eml).
            with open(f"{path}.partial", "wb") as file:
                file.write(message.message().as_bytes())
            os.replace(f"{path}.partial", path)
            time.sleep(0.3)
        return len(messages)
