"""Sound servers for the kiosk's speaker, real ones: a PulseAudio server with a null sink whose
monitor a test records (what the kiosk played, as heard), and a socket that takes a sound
client's connection and never answers (a wedged server: SDL's PulseAudio open waits forever).
Both live in a short folder of their own (a unix socket's path is at most 107 bytes)."""

from __future__ import annotations

import array
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

from tests.support.common import stop_process, wait_until

HAS_PULSEAUDIO = bool(shutil.which("pulseaudio") and shutil.which("parec"))
RATE = 22050  # the kiosk's WAVs' rate: the monitor recorded at it, mono


class SilentSoundServer:
    """Listens where ``PULSE_SERVER`` points, accepts each client and never answers it."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="pk-snd-"))
        self.path = self.folder / "pulse.sock"
        self.address = f"unix:{self.path}"
        self.clients: list[socket.socket] = []
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(self.path))
        self._listener.listen(8)
        self._thread = threading.Thread(target=self._accept, name="silent-sound", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:  # closed: the test is over
                return
            self.clients.append(client)

    def open_clients(self) -> int:
        """Clients still connected (one that went away reads as the end of its stream)."""
        count = 0
        for client in self.clients:
            client.setblocking(False)
            try:
                while client.recv(4096):  # what it asked, never answered
                    pass
            except BlockingIOError:
                count += 1  # nothing more to read, and still there
        return count

    def close(self) -> None:
        self._listener.close()
        for client in self.clients:
            client.close()
        shutil.rmtree(self.folder, ignore_errors=True)


class PulseServer:
    """A user-less PulseAudio server with a null sink, and a recording of that sink's monitor."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="pk-pa-"))
        self.address = f"unix:{self.folder / 'native'}"
        # Its own home and runtime folder: no cookie, pid file or user session of anyone's.
        env = {**os.environ, "HOME": str(self.folder), "XDG_RUNTIME_DIR": str(self.folder)}
        env.pop("PULSE_SERVER", None)
        self._server = subprocess.Popen(
            [
                "pulseaudio",
                "--daemonize=no",
                "--system=false",
                "--exit-idle-time=-1",
                "--use-pid-file=false",
                "-n",  # no default script: only what follows
                "--load=module-null-sink sink_name=kiosk",
                f"--load=module-native-protocol-unix auth-anonymous=1 socket={self.folder}/native",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._recorder: subprocess.Popen[bytes] | None = None
        self._recorded = bytearray()
        self._lock = threading.Lock()
        try:
            wait_until(self._answers, 15, "the PulseAudio server up")
            self._record()
        except BaseException:
            self.close()
            raise

    def _answers(self) -> bool:
        assert self._server.poll() is None, f"pulseaudio ended: {self._server.returncode}"
        check = ["pactl", "--server", self.address, "info"]
        return subprocess.run(check, capture_output=True, check=False).returncode == 0

    def _record(self) -> None:
        self._recorder = subprocess.Popen(
            [
                "parec",
                f"--server={self.address}",
                "--device=kiosk.monitor",
                "--raw",
                "--format=s16le",
                "--channels=1",
                f"--rate={RATE}",
                "--latency-msec=20",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        threading.Thread(target=self._read, args=(self._recorder,), daemon=True).start()

    def _read(self, recorder: subprocess.Popen[Any]) -> None:
        while chunk := recorder.stdout.read1(4096):
            with self._lock:
                self._recorded += chunk

    def loudest(self) -> int:
        """The loudest sample recorded since the last ``forget`` (0: silence)."""
        with self._lock:
            samples = array.array("h", self._recorded[: len(self._recorded) // 2 * 2])
        return max(map(abs, samples), default=0)

    def forget(self) -> None:
        with self._lock:
            self._recorded.clear()

    def close(self) -> None:
        stop_process(self._recorder, 2)
        stop_process(self._server, 5)
        shutil.rmtree(self.folder, ignore_errors=True)


# ---- what SDL's disk driver wrote: the speaker's output, as heard -------------------------------
DISK_RATE = 44100  # Kivy's SDL mixer: 44.1 kHz, 16-bit, stereo (the disk driver writes that)


class DiskCapture:
    """The file SDL's ``disk`` audio driver writes (``SDL_AUDIODRIVER=disk``,
    ``SDL_DISKAUDIOFILE``): every sample the player process played, silence included, in real
    time. Read as the voice's rate, mono (:data:`RATE`), to be matched against rendered WAVs."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def samples(self) -> Any:
        """The left channel at :data:`RATE` (every other frame of 44.1 kHz) as float64."""
        import numpy as np

        data = self.path.read_bytes() if self.path.exists() else b""
        frames = np.frombuffer(data[: len(data) // 4 * 4], dtype="<i2").reshape(-1, 2)
        return frames[:: DISK_RATE // RATE, 0].astype(np.float64)

    def loud_since(self, start: int, level: int = 200) -> bool:
        return bool((abs(self.samples()[start:]) > level).any())

    def quiet_tail(self, seconds: float, level: int = 200) -> bool:
        """The last ``seconds`` are silence (a prompt has ended) and something was heard."""
        samples = self.samples()
        tail = int(seconds * RATE)
        return len(samples) > tail and not (abs(samples[-tail:]) > level).any()


def read_wav(path: Path) -> Any:
    """A rendered sentence's samples (mono, 16-bit, :data:`RATE`) as float64."""
    import wave

    import numpy as np

    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE)
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float64)


def find_clip(heard: Any, clip: Any, start: int = 0) -> tuple[int, float]:
    """Where ``clip`` best matches ``heard`` from ``start`` on, and how well: the normalized
    cross-correlation (1.0: the same samples at any volume; another sentence scores far lower)."""
    import numpy as np

    segment = heard[start:]
    if len(segment) < len(clip):
        return start, 0.0
    size = 1 << (len(segment) + len(clip)).bit_length()
    spectrum = np.fft.rfft(segment, size) * np.conj(np.fft.rfft(clip, size))
    correlation = np.fft.irfft(spectrum, size)[: len(segment) - len(clip) + 1]
    energy = np.concatenate(([0.0], np.cumsum(segment**2)))
    windows = energy[len(clip) :] - energy[: len(segment) - len(clip) + 1]
    score = correlation / (np.sqrt(np.maximum(windows, 1e-9)) * np.sqrt((clip**2).sum()))
    best = int(np.argmax(score))
    return start + best, float(score[best])
