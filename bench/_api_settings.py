"""Production settings plus the benchmark's yardsticks (`bench.api` URLconf)."""

import os

from backoffice.settings import *  # noqa: F403
from backoffice.settings import CACHES

ROOT_URLCONF = "bench._api_urls"

if os.environ.get("BENCH_CACHE_PREFIX"):  # `--returning`: a shared Redis cache, this run's keys
    CACHES["default"]["KEY_PREFIX"] = os.environ["BENCH_CACHE_PREFIX"]
