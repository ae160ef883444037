"""How the OpenAI provider renews its upstream session: reconnecting after a drop, within a
budget of attempts per time window (an error retrying cannot fix stops it at once), and
recycling the session at a quiet moment before OpenAI's 60-minute cap.

``OpenAIRealtimeProvider`` mixes this in; the attributes used here (``_conn``, ``_attempts``,
``_failure``, the reconnect settings, ``_open``, ``_history``, ``emit``) are the provider's.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time

from .openai_errors import UpstreamRefused

logger = logging.getLogger("realtime.providers.openai")


class UpstreamRenewal:
    async def _after_close(self, exc) -> bool:
        """The upstream socket closed: reconnect if that can help. False when given up."""
        code = exc.rcvd.code if exc.rcvd is not None else 1006
        if not self._failure:
            logger.warning("OpenAI Realtime connection closed (code %s); reconnecting", code)
            self.emit({"type": "provider.disconnected", "message": f"closed with code {code}"})
            if await self._reconnect():
                return True
        self._dead = True
        if self._failure:
            logger.error("OpenAI Realtime stopped: %s", self._failure)
            self.emit({"type": "provider.failed", "message": self._failure, "final": True})
        else:
            message = (
                f"OpenAI Realtime could not be reached ({len(self._attempts)} reconnect "
                f"attempts within {self.reconnect_window:g} s)."
            )
            logger.error("%s Giving up.", message)
            self.emit({"type": "provider.failed", "message": message, "final": False})
        return False

    async def _maybe_recycle(self) -> None:
        """Before the cap: at a quiet moment, move to a fresh upstream session."""
        if (
            time.monotonic() - self._opened_at < self.recycle_after_seconds
            or self._response_active
            or self._pending_transcripts
            or self._wanted is not None
        ):
            return
        old = self._conn
        self._reconnecting = True
        try:
            await self._open(await self._history())
        except UpstreamRefused as exc:
            self._failure = exc.reason
            await self._close_conn(old)  # the reader sees the close and stops
            return
        except Exception as exc:
            logger.warning("OpenAI Realtime recycle failed (%s); keeping the session", exc)
            self._opened_at = time.monotonic()
            await self._flush_pending_audio()
            return
        logger.info("OpenAI Realtime session recycled before its time cap")
        await self._close_conn(old)
        await self._flush_pending_audio()

    async def _reconnect(self) -> bool:
        self._reconnecting = True
        try:
            while not self.closed:
                now = time.monotonic()
                while self._attempts and now - self._attempts[0] > self.reconnect_window:
                    self._attempts.popleft()
                if len(self._attempts) >= self.reconnect_budget:
                    return False
                self._attempts.append(now)
                attempt = len(self._attempts)
                delay = min(self.initial_backoff * 2 ** (attempt - 1), self.max_backoff)
                await asyncio.sleep(delay * (0.75 + random.random() * 0.25))
                if self.closed:
                    return False
                try:
                    await self._open(await self._history())
                except UpstreamRefused as exc:
                    self._failure = exc.reason
                    return False
                except Exception as exc:
                    logger.warning(
                        "OpenAI Realtime reconnect attempt %d/%d failed: %s",
                        attempt,
                        self.reconnect_budget,
                        exc,
                    )
                    continue
                logger.info("OpenAI Realtime reconnected (attempt %d) and re-seeded", attempt)
                self.emit({"type": "provider.reconnected"})
                await self._flush_pending_audio()
                return True
            return False
        finally:
            self._reconnecting = False
