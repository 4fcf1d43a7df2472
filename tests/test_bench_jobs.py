"""`bench/jobs.py` on a few rows: its generated data is what each job handles, per item and
per batch, and its check counts each subscription exactly once (the benchmark's SQL copies
rows, so it would break silently when a column is added)."""

import datetime as dt

import pytest

from bench import jobs


@pytest.mark.postgres("the benchmark generates its rows with generate_series")
@pytest.mark.django_db
@pytest.mark.parametrize("job", jobs.JOBS)
@pytest.mark.parametrize("mode", ["per-item", "batch"])
def test_the_jobs_benchmark_handles_each_generated_subscription_once(job, mode):
    jobs._generate(job, 30)

    handled = jobs._handle(job, mode, workers=1)

    assert handled == 30
    jobs._check(job, 30)
    assert jobs._batches(job, dt.datetime.fromisoformat(jobs.NOW)) == []
