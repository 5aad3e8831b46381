"""A per-client rate limit: a token bucket, and a count of what a flooding client sent over it.

The bucket holds up to ``burst`` tokens and gains ``rate`` tokens a second; each message takes
one. A client may send a burst of ``burst`` messages at once and ``rate`` a second for ever;
beyond that its messages are refused. ``over`` counts the messages refused since the bucket was
last full, that is since the client last calmed down: the chat tells the client at the first
one and closes the connection (1008) when ``over`` keeps growing.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class RateLimit:
    def __init__(self, rate: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a rate limit needs rate > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self.over = 0
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()

    def allow(self) -> bool:
        """Take a token for one message: True if there was one, False if the message is over
        the limit (and ``over`` grows)."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens == self.burst:
            self.over = 0  # calm again: a later burst starts a fresh count
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        self.over += 1
        return False
