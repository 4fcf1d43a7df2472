"""Retention cases: long-inactive workspaces, legal holds, tombstones of erased ones."""

from __future__ import annotations

import datetime as dt

from accounts.models import DeletionTombstone


class RetentionMixin:
    def _retention_cases(self) -> None:
        rng, ws, now = self.rng, self.workspace, self.now
        if self.spec.owner is not None:
            return
        age_days = (now - self.created).days
        if rng.random() < 0.1 and (self.plan.is_free or ws.ended_at):
            floor = max(400, age_days // 2)
            days = rng.randint(min(floor, age_days), age_days)
            ws.last_activity_at = self._past(now - dt.timedelta(days=days))
        if rng.random() < 0.02:
            ws.legal_hold = True
            ws.legal_hold_reason = f"Litigation hold, case {rng.randint(1000, 9999)}"
            placed = self._past(now - dt.timedelta(days=rng.randint(1, 90)))
            self._audit("workspace.legal_hold", ws, placed)
        if self.spec.index % 250 == 7:
            # An erased workspace (its own, older dates), not the one being built.
            deleted = now - dt.timedelta(days=rng.randint(1, 60))
            created = deleted - dt.timedelta(days=rng.randint(400, 1_200))
            self.batch.add(
                DeletionTombstone,
                workspace_id=10**12 + self.spec.index,
                workspace_created_at=created,
                last_activity_at=created + dt.timedelta(days=30),
                deleted_at=deleted,
                rule=DeletionTombstone.Rule.INACTIVITY,
                policy=f"{self.spec.policy_slug}@1",
                counts={"members": 2, "files": 3, "payments": 0},
            )
