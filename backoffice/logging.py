"""Log filter that keeps personal and payment data out of every log line: the app's, Django's
request loggers (settings.LOGGING) and gunicorn's access and error logs (gunicorn.conf.py)."""

import logging
import re

_PATTERNS = [
    # Links that are secrets themselves: password reset and review confirmation.
    (re.compile(r"(/accounts/reset/)[^/\s]+/[^/\s]+"), r"\1[redacted]"),
    (re.compile(r"(/billing/review/confirm/)[^/\s]+"), r"\1[redacted]"),
    (re.compile(r"[\w.+-]+(@|%40)[\w-]+(\.[\w-]+)+", re.IGNORECASE), "[email]"),
    (re.compile(r"\b(?:\d[ -]?){13,19}\b"), "[card]"),
    (re.compile(r"\b(sk|pk|rk|whsec)_(live|test)?_?[A-Za-z0-9]{6,}\b"), "[secret]"),
    (
        re.compile(r"(?i)\b(authorization[\"']?\s*[:=]\s*[\"']?)(bearer|token|basic)\s+[^\s\"',]+"),
        r"\1\2 [redacted]",
    ),
    (
        re.compile(r"(?i)\b(token|authorization|api[_-]?key)([\"']?\s*[:=]\s*[\"']?)[^\s\"',]+"),
        r"\1\2[redacted]",
    ),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
