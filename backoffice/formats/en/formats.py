"""Dates as agents and customers read them: "1 Dec 2026, 15:25 CET", the same shape as
`backoffice.display` writes them, instead of Django's "Dec. 1, 2026, 3:25 p.m."."""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i T"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i T"
TIME_FORMAT = "H:i"
