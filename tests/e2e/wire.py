"""What went over the page's WebSocket, recorded from outside the page.

Playwright reports every frame the page sends and receives. The test keeps the
audio itself (mic chunks with their timestamps, AI chunks by seq) so it can
rebuild the client-clock signals on its own, independently of anything the
server stored or computed.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field

import numpy as np

from tests.e2e import sync_analysis as sa


@dataclass
class WireLog:
    mic: dict[int, tuple[float, bytes]] = field(default_factory=dict)  # seq -> (timestamp, pcm)
    tts: dict[int, bytes] = field(default_factory=dict)  # ai seq -> pcm
    tts_arrival: dict[int, float] = field(default_factory=dict)  # ai seq -> monotonic time
    sent: list[dict] = field(default_factory=list)  # other client events, with "_at"
    received: list[dict] = field(default_factory=list)  # other server events, with "_at"
    sockets: int = 0
    errors: list[str] = field(default_factory=list)

    def attach(self, websocket) -> None:
        if "/ws/session" not in websocket.url:
            return
        self.sockets += 1
        websocket.on("framesent", self._on_sent)
        websocket.on("framereceived", self._on_received)

    @staticmethod
    def _parse(payload) -> dict | None:
        if isinstance(payload, bytes):
            return None
        try:
            msg = json.loads(payload)
        except ValueError:
            return None
        return msg if isinstance(msg, dict) else None

    def _on_sent(self, payload) -> None:
        msg = self._parse(payload)
        if msg is None:
            self.errors.append("non-JSON frame sent")
            return
        if msg.get("event") == "mic_chunk":
            self.mic.setdefault(
                int(msg["seq"]), (float(msg["timestamp"]), base64.b64decode(msg["audio_b64"]))
            )
            return
        msg["_at"] = time.monotonic()
        if msg.get("event") == "start":
            msg["token"] = "…"
        self.sent.append(msg)

    def _on_received(self, payload) -> None:
        msg = self._parse(payload)
        if msg is None:
            return
        kind = msg.get("event") or msg.get("type")
        if kind == "tts_chunk":
            seq = int(msg["seq"])
            self.tts.setdefault(seq, base64.b64decode(msg["audio_b64"]))
            self.tts_arrival.setdefault(seq, time.monotonic())
            return
        msg["_at"] = time.monotonic()
        self.received.append(msg)

    # -- views -----------------------------------------------------------------
    def received_of(self, kind: str) -> list[dict]:
        return [m for m in self.received if (m.get("event") or m.get("type")) == kind]

    def sent_of(self, kind: str) -> list[dict]:
        return [m for m in self.sent if m.get("event") == kind]

    def interviewer_lines(self) -> list[str]:
        return [
            m.get("text", "")
            for m in self.received_of("transcript")
            if m.get("role") == "interviewer" and m.get("final", True)
        ]

    def mic_track(self) -> np.ndarray:
        """The mic audio laid out on the client clock (sample 0 = interview zero)."""
        chunks = [(t, sa.pcm16_to_float(pcm)) for t, pcm in self.mic.values()]
        return sa.place_chunks(chunks, origin=0.0)

    def tts_samples(self, seq: int) -> np.ndarray:
        return sa.pcm16_to_float(self.tts[seq])

    def summary(self) -> dict:
        """JSON-friendly record without the audio payloads."""
        return {
            "mic_chunks": [
                {"seq": s, "timestamp": t, "bytes": len(p)}
                for s, (t, p) in sorted(self.mic.items())
            ],
            "tts_chunks": [{"seq": s, "bytes": len(p)} for s, p in sorted(self.tts.items())],
            "sent": self.sent,
            "received": self.received,
            "sockets": self.sockets,
        }
