"""Rate limits (the ``limits`` library): per API key, and per client address for anonymous
requests; exports have a stricter budget of their own. ``api.auth.CallerMiddleware`` charges
each ``/v1`` request to exactly one of them.

Counters live in each process's memory: with N worker processes a client gets up to N times
the budget. That bounds abuse without a shared store; put a proxy limit in front for more.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.types import Scope

from api.errors import AppError

EXPORT_PREFIXES = ("/v1/exports/", "/v1/feed")


class TooManyRequests(AppError):
    status = 429
    title = "Too Many Requests"


@dataclass(frozen=True)
class RateLimits:
    per_key: RateLimitItem
    anonymous: RateLimitItem
    exports: RateLimitItem
    limiter: MovingWindowRateLimiter

    @classmethod
    def of(cls, per_key: str, anonymous: str, exports: str) -> RateLimits:
        return cls(
            per_key=parse(per_key),
            anonymous=parse(anonymous),
            exports=parse(exports),
            limiter=MovingWindowRateLimiter(MemoryStorage()),
        )

    def retry_after(self, item: RateLimitItem, *identifiers: str) -> int | None:
        """None when the request may go ahead (and is counted), else seconds to wait."""
        if self.limiter.hit(item, *identifiers):
            return None
        reset = self.limiter.get_window_stats(item, *identifiers).reset_time
        return max(1, math.ceil(reset - time.time()))

    def check(self, who: str, path: str, anonymous: bool) -> None:
        """Raise 429 when ``who`` is over its budget for ``path``."""
        items = [self.anonymous if anonymous else self.per_key]
        if path.startswith(EXPORT_PREFIXES):
            items.append(self.exports)
        for item in items:
            wait = self.retry_after(item, who, str(item))
            if wait is not None:
                raise TooManyRequests(
                    f"Too many requests ({item}); retry in {wait} s.",
                    headers={"Retry-After": str(wait)},
                    limit=str(item),
                )


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
