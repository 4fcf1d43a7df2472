"""Production settings plus the benchmark's bare view (`bench.api` URLconf)."""

from backoffice.settings import *  # noqa: F403

ROOT_URLCONF = "bench._api_urls"
