"""How a live session ends: exactly once, by ``end``, the interviewer's goodbye, a final
provider failure or the resume window passing; or hands the interview over to a newer session.

Ending flushes and closes the spool, completes (or fails) the interview through
``interviews`` services, requests the audio mix, and tells the browser. ``LiveSession`` mixes
this in; the attributes used here (``state``, ``buffer``, ``provider``, ``peer``, ``takeover``,
the session's tasks) are the session's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from asgiref.sync import sync_to_async
from django.conf import settings

from interviews.models import Interview
from media_export import services as media_services
from media_export.tasks import finalise_recording_task

from . import notices, services
from .protocol import CLOSE_NORMAL
from .session_state import SessionState
from .takeover import notify_superseded

logger = logging.getLogger("realtime.session")


class SessionEnding:
    def interviewer_finished(self) -> None:
        """The interviewer said goodbye: end once the browser has played it out."""
        if self._finish_task is None:
            self._finish_task = asyncio.get_running_loop().create_task(
                self._finish_after_playback()
            )

    async def _finish_after_playback(self, cap_seconds: float = 30.0) -> None:
        deadline = time.monotonic() + cap_seconds
        while time.monotonic() < deadline and self.clock.now() < self.buffer.playback_end() + 0.3:
            await asyncio.sleep(0.05)
        await self.end(Interview.EndReason.INTERVIEWER_FINISHED)

    # -- ending ----------------------------------------------------------------
    async def end(self, reason: Interview.EndReason) -> None:
        """Finish the session exactly once: flush, complete, request mixing, tell the browser."""
        await self._finish(reason)

    async def fail(self, staff_reason: str) -> None:
        """The interviewer cannot go on: one notice, then end; the interview is ``failed``."""
        if not self.state.finished:
            await self.send(notices.notice(notices.UNAVAILABLE))
        await self._finish(Interview.EndReason.PROVIDER_FAILED, failure=staff_reason)

    async def _finish(self, reason: Interview.EndReason, failure: str = "") -> None:
        if self.state.finished:
            return
        self.state = SessionState.ENDED
        self.forget()
        if not failure:
            await self._hear_last_words()
        await self._release(ended=True)
        if failure:
            await services.fail_interview(
                interview_id=self.interview_id, reason=failure, end_reason=reason
            )
        else:
            await services.complete_interview(interview_id=self.interview_id, end_reason=reason)
        await services.save_latency(self.interview_id, self.latency.summary())
        try:
            await sync_to_async(media_services.request_mixing)(self.interview_id, self.session_id)
        except Exception:
            logger.exception("Interview %s: requesting the audio mix failed", self.interview_id)
        if reason == Interview.EndReason.ABANDONED:
            # Nobody will upload the rest or complete the recording: export what arrived.
            try:
                await sync_to_async(finalise_recording_task.enqueue)(self.interview_id)
            except Exception:
                logger.exception("Interview %s: finalising the recording failed", self.interview_id)
        logger.info(
            "Session %s of interview %s ended (%s)",
            self.session_id,
            self.interview_id,
            reason.label,
        )
        peer, self.peer = self.peer, None
        if peer is not None:
            with contextlib.suppress(Exception):
                await peer.send_json({"event": "session_ended", "interview_id": self.interview_id})
                await peer.close(code=CLOSE_NORMAL)

    async def hand_off(self) -> None:
        """Another session took the interview over: release everything, end nothing."""
        if self.state.finished:
            return
        self.state = SessionState.HANDED_OFF
        self.forget()
        await self._release(ended=False)
        await services.save_latency(self.interview_id, self.latency.summary())
        peer, self.peer = self.peer, None
        if peer is not None:
            await notify_superseded(peer)

    async def _hear_last_words(self) -> None:
        """Give the last answer's transcript a bounded moment to arrive and be stored.

        The candidate may press End while their last words are still being transcribed;
        the provider's remaining events are handled before the session lets go of it.
        """
        provider, pump = self.provider, self._pump_task
        if provider is None or pump is None or pump is asyncio.current_task():
            return
        wait = settings.END_TRANSCRIPT_WAIT_SECONDS
        started = time.monotonic()
        try:
            await provider.settle(wait)
        except Exception:
            logger.exception("Session %s: waiting for transcripts failed", self.session_id)
        await provider.close()  # ends the event stream: the pump handles what is left, then stops
        left = max(0.5, wait - (time.monotonic() - started))
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(pump), left)

    async def _release(self, ended: bool) -> None:
        self.events.stop()
        current = asyncio.current_task()
        for task in (self._expiry_task, self._finish_task, self._pump_task, self._flush_task):
            if task is not None and task is not current and not task.done():
                task.cancel()
        if self.provider is not None:
            await self.provider.close()
        if self.buffer is not None:
            async with self._spool_lock:  # never close under a sync running in a thread
                await asyncio.to_thread(self.buffer.close, ended)
            await self.ship()  # the last of it, before another node may read it
        await self.takeover.leave()
