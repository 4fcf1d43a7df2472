"""The demo's fixed parts: logins, plan catalogue, names to draw from."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from billing.models import OnboardingService, Subscription


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    role: str
    group: str | None = None
    is_staff: bool = False
    is_superuser: bool = False


# Fixed credentials for local use only (documented in docs/foundation.md).
DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin("admin@example.com", "admin", "Superuser", is_staff=True, is_superuser=True),
    DemoLogin("agent@example.com", "agent", "Support agent", "Support agent", is_staff=True),
    DemoLogin("lead@example.com", "lead", "Billing lead", "Billing lead", is_staff=True),
    DemoLogin("owner@example.com", "owner", "Customer, owner of workspaces acme and acme-connex"),
)
# Every generated customer (owners and members of demo-NNNNNN workspaces) signs in with it.
CUSTOMER_PASSWORD = "demo"
DEMO_SLUG_PREFIX = "demo-"

# Per policy family: currency and the paid tiers (name, monthly price, seats, storage MB,
# modules, orders per month). Yearly costs ten months. Tier 0 is the Free plan.
CATALOGUE: dict[str, tuple[str, tuple[tuple[str, str, int, int, int, int], ...]]] = {
    "connex": (
        "USD",
        (
            ("Starter", "49.00", 5, 5_000, 3, 500),
            ("Pro", "99.00", 15, 25_000, 6, 2_000),
            ("Business", "249.00", 50, 100_000, 12, 10_000),
        ),
    ),
    "sync-with-connex": (
        "USD",
        (
            ("Basic", "39.00", 5, 5_000, 2, 300),
            ("Plus", "89.00", 20, 20_000, 5, 1_500),
            ("Premium", "199.00", 60, 80_000, 10, 8_000),
        ),
    ),
    "orgix": (
        "EUR",
        (
            ("Essential", "29.00", 5, 5_000, 3, 500),
            ("Professional", "79.00", 25, 30_000, 8, 3_000),
            ("Enterprise", "199.00", 100, 150_000, 20, 20_000),
        ),
    ),
    "prorated-credit": (
        "USD",
        (
            ("Team", "19.00", 5, 2_000, 2, 200),
            ("Growth", "59.00", 20, 20_000, 5, 1_000),
            ("Scale", "149.00", 75, 100_000, 12, 10_000),
        ),
    ),
}
FREE_LIMITS = (3, 500, 1, 50)
POLICY_SLUGS = tuple(CATALOGUE)
# The states demo subscriptions are drawn in (weights in seed.py); paused ones need a
# pause window, so the demo has none.
STATUSES = tuple(s for s in Subscription.Status.values if s != Subscription.Status.PAUSED)
MODULE_CODES = ("membership", "events", "crm", "newsletter", "forms", "shop", "bookings")
VAT_RATES = {"LU": 17, "DE": 19, "FR": 20, "NL": 21, "BE": 21, "IE": 23, "ES": 21}
USD_COUNTRIES = ("US", "US", "US", "CA", "GB", "AU", "MX")
IMPLEMENTATION_SERVICES = (
    (OnboardingService.Kind.PRELIMINARY_CALL, Decimal("250.00"), 2),
    (OnboardingService.Kind.ONBOARDING, Decimal("750.00"), 9),
    (OnboardingService.Kind.FOLLOW_UP_CALL, Decimal("500.00"), 30),
)
ACTIVATION_FEE = Decimal("399.00")
PAYMENT_HISTORY = 12  # most recent periods that get a payment row

ADJECTIVES = (
    "Blue", "Northern", "Silver", "Green", "Golden", "Quiet", "Bright", "Harbor", "Maple",
    "River", "Summit", "Coastal", "Urban", "Cedar", "Iron", "Lakeside", "Eastern", "Royal",
)  # fmt: skip
NOUNS = (
    "Rowing", "Chess", "Cycling", "Choir", "Climbing", "Tennis", "Photo", "Theatre", "Hiking",
    "Sailing", "Running", "Film", "Garden", "Coding", "Dance", "Yoga", "Swim", "Book",
)  # fmt: skip
KINDS = ("Club", "Society", "Association", "Collective", "Guild", "League", "Union", "Studio")
FIRST_NAMES = (
    "Ada", "Ben", "Chloe", "David", "Emma", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kim",
    "Lena", "Marco", "Nina", "Omar", "Paula", "Quentin", "Rosa", "Sven", "Tara", "Yusuf",
)  # fmt: skip
LAST_NAMES = (
    "Schmidt", "Dubois", "Rossi", "Jansen", "Murphy", "Garcia", "Novak", "Weber", "Martin",
    "Silva", "Kowalski", "Berg", "Laurent", "Costa", "Meyer", "Nguyen", "Haddad", "Olsen",
)  # fmt: skip
