"""The four policy texts in `shared/policies/`, encoded as `PolicyRules`.

Each rule names its clause; `reading` records how we resolved an ambiguity. These are
loaded as version 1 of each policy by `billing/migrations/0002_policy_presets.py`. The
rules live by text: connex and sync-with-connex in `presets_connex`, orgix and
prorated-credit in `presets_orgix`.
"""

from .presets_connex import CONNEX, SYNC_WITH_CONNEX
from .presets_orgix import ORGIX, PRORATED_CREDIT
from .rules import PolicyRules

PRESETS: dict[str, PolicyRules] = {
    "connex": CONNEX,
    "sync-with-connex": SYNC_WITH_CONNEX,
    "orgix": ORGIX,
    "prorated-credit": PRORATED_CREDIT,
}

__all__ = ["CONNEX", "ORGIX", "PRESETS", "PRORATED_CREDIT", "SYNC_WITH_CONNEX"]
