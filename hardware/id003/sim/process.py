"""The ID-003 simulator in a process of its own, as a real acceptor is a device of its own, and
:class:`SimulatorProcess`, the handle on it with :class:`AcceptorSimulator`'s API (the demo's
and the tests' unit).

Why: a simulator *thread* shares its process's GIL and CPU share. Beside Kivy drawing in
software, or in a pytest worker with tests side by side on 2 cores, it went unheard for up to
0.4 s, and the kiosk rightly took the silent unit for offline (4 attempts × 100 ms). Here it
runs at a real-time priority where the system allows it (root or ``CAP_SYS_NICE``), so it
answers within milliseconds whatever the load, as a unit's own microcontroller does; a thread
cannot get that, as priority does not reach the GIL's holder. (The pty itself still moves bytes
through a kernel worker of normal priority: on a machine at 100 % the line can stall too.)

Steered as before. ``control`` and ``wait_for`` run their function *there*, under the
simulator's lock: its code, its closure's values and the globals it names are copied across, so
it may read and change the device and return a value, never change the caller's state.
``on_receive`` hooks run *here* while the simulator waits for them (the unit has not reacted
yet); a hook may replace or clear ``on_receive`` but not call the simulator. ``faults`` are the
unit's own, read and set there; ``device`` is a copy to read, changed through ``control``.

    python -m hardware.id003.sim.process CONTROL_FD HOOK_FD   (started by SimulatorProcess)
"""

from __future__ import annotations

import builtins
import contextlib
import dis
import importlib
import marshal
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import types
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar, cast

from hardware.id003.frames import Frame
from hardware.id003.sim.device import DeviceCounters, SimulatedDevice, Timing
from hardware.id003.sim.simulator import AcceptorSimulator, TraceEntry, WireFaults

T = TypeVar("T")
_REPLY_GRACE = 30.0  # seconds a request may take beyond its own time-out before the process is
# taken for dead (generous: the caller's process itself may wait for a CPU)
_FAULTS = frozenset(WireFaults.__dataclass_fields__)
_LOAD_GLOBALS = {"LOAD_GLOBAL", "LOAD_NAME"}


# ---- functions sent to the simulator's process -------------------------------------------------
def _global_names(code: types.CodeType) -> Iterator[str]:
    for instruction in dis.get_instructions(code):
        if instruction.opname in _LOAD_GLOBALS:
            yield str(instruction.argval)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _global_names(const)


def pack(function: Callable[..., object]) -> bytes:
    """``function`` as bytes for :func:`unpack` in another process of the same interpreter."""
    scope = function.__globals__
    names: dict[str, tuple[str, object]] = {}
    for name in set(_global_names(function.__code__)) & scope.keys():
        value = scope[name]
        names[name] = (
            ("module", value.__name__) if isinstance(value, types.ModuleType) else ("value", value)
        )
    cells = tuple(cell.cell_contents for cell in function.__closure__ or ())
    parts = (
        marshal.dumps(function.__code__),
        function.__name__,
        function.__defaults__,
        function.__kwdefaults__,
        names,
        cells,
    )
    try:
        return pickle.dumps(parts)
    except (pickle.PicklingError, TypeError, AttributeError) as error:
        raise TypeError(
            f"{function.__qualname__} runs in the simulator's process: what it uses must be "
            f"copied there ({error})"
        ) from error


def unpack(data: bytes) -> Callable[..., Any]:
    code, name, defaults, kwdefaults, names, cells = pickle.loads(data)
    scope: dict[str, Any] = {"__builtins__": builtins}
    for key, (kind, value) in names.items():
        scope[key] = importlib.import_module(value) if kind == "module" else value
    closure = tuple(types.CellType(value) for value in cells)
    function = types.FunctionType(marshal.loads(code), scope, name, defaults, closure)
    function.__kwdefaults__ = kwdefaults
    return function


# ---- the simulator's process -------------------------------------------------------------------
def _realtime() -> bool:
    """The lowest real-time priority for this thread and the threads it starts; False if the
    system does not allow it (the simulator then competes for the CPU like any process)."""
    try:
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(1))
    except OSError:
        return False
    return True


class _Peer:
    """The simulator's side: the control connection served on the main thread; host frames
    sent to the test while it has a hook (on the simulator's thread, under its lock)."""

    def __init__(self, control: Connection, hooks: Connection) -> None:
        self.control, self.hooks = control, hooks
        self.hooked = False
        timing, link = control.recv()
        realtime = _realtime()  # before the simulator's thread starts: it inherits it
        self.sim = AcceptorSimulator(SimulatedDevice(timing=timing), link=link)
        self.sim.on_receive = self._forward
        self.sim.start()
        control.send(("ok", realtime))

    def _forward(self, frame: Frame) -> None:
        if not self.hooked:
            return
        try:
            self.hooks.send(frame)
            self.hooks.recv()  # the test's hook has run
        except (EOFError, OSError):  # the test's process is gone
            self.hooked = False

    def serve(self) -> None:
        while True:
            try:
                op, args, reply = self.control.recv()
            except EOFError:  # the test's process is gone
                op, args, reply = "stop", (), False
            if op == "stop":
                self.sim.stop()
                if reply:
                    self.control.send(("ok", None))
                return
            try:
                result: tuple[str, object] = ("ok", self._do(op, args))
            except Exception as error:
                result = ("error", error)
            if reply:
                try:
                    self.control.send(result)
                except (pickle.PicklingError, TypeError, AttributeError) as error:
                    self.control.send(("error", TypeError(f"{op}: result not copyable: {error}")))

    def _do(self, op: str, args: tuple[Any, ...]) -> object:
        sim = self.sim
        if op == "hook":
            self.hooked = bool(args[0])
            return None
        if op == "control":
            return sim.control(unpack(args[0]))
        if op == "wait_for":
            return sim.wait_for(unpack(args[0]), args[1])
        if op == "snapshot":  # copied under the lock: the simulator's thread changes it
            return sim.control(_copy_now)
        if op == "fault":  # (name,) reads, (name, value) sets
            if args[0] not in _FAULTS:
                raise AttributeError(f"no wire fault {args[0]!r}")
            if len(args) == 1:
                return getattr(sim.faults, args[0])
            return sim.control(lambda device, now: setattr(sim.faults, args[0], args[1]))
        if op == "trace":
            return sim.control(lambda device, now: list(sim.trace))
        if op == "get":
            return getattr(sim, args[0])
        if op == "call":
            return getattr(sim, args[0])(*args[1:])
        raise ValueError(f"unknown request {op!r}")


def _copy_now(device: SimulatedDevice, now: float) -> bytes:
    device.advance(now)
    return pickle.dumps(device)


def main(argv: list[str]) -> None:
    # Its owner stops it (or its end of the connection closes): a Ctrl-C at the owner's
    # terminal is for the owner, which still talks to the unit as it stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    control, hooks = (Connection(int(fd)) for fd in argv[1:3])
    _Peer(control, hooks).serve()


# ---- the test's handle -------------------------------------------------------------------------
_PARTS = (SimulatedDevice, Timing, DeviceCounters)  # the device's own changeable objects


class _Snapshot:
    """A copy of the device at one moment, to read; setting its attributes (or its timing's, or
    its counters') is an error, as it would change nothing: use :meth:`SimulatorProcess.control`."""

    def __init__(self, target: object) -> None:
        object.__setattr__(self, "_target", target)

    def __getattr__(self, name: str) -> Any:
        value = getattr(object.__getattribute__(self, "_target"), name)
        return _Snapshot(value) if isinstance(value, _PARTS) else value

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"sim.device is a copy: set {name} with sim.control(...)")

    def __repr__(self) -> str:
        return f"snapshot of {object.__getattribute__(self, '_target')!r}"


class _RemoteFaults:
    """:class:`WireFaults` of the simulator in its process, attribute by attribute."""

    def __init__(self, owner: SimulatorProcess) -> None:
        object.__setattr__(self, "_owner", owner)

    def __getattr__(self, name: str) -> Any:
        return object.__getattribute__(self, "_owner")._request("fault", name)

    def __setattr__(self, name: str, value: object) -> None:
        object.__getattribute__(self, "_owner")._request("fault", name, value)


class SimulatorProcess:
    """An :class:`AcceptorSimulator` in its own process behind a pty linked at ``link``."""

    def __init__(self, link: Path, timing: Timing | None = None) -> None:
        self.link = link
        self.timing = timing or Timing()
        self.realtime = False  # the process got a real-time priority
        self._process: subprocess.Popen[bytes] | None = None
        self._control: Connection | None = None
        self._hooks: Connection | None = None
        self._request_lock = threading.Lock()  # one request and its reply at a time
        self._send_lock = threading.Lock()  # a hook's unhook goes out beside a request
        self._hook: Callable[[Frame], None] | None = None
        self._hook_errors: list[BaseException] = []
        self._listener: threading.Thread | None = None

    @property
    def path(self) -> str:
        return str(self.link)

    def start(self) -> SimulatorProcess:
        control, control_there = socket.socketpair()
        hooks, hooks_there = socket.socketpair()
        with control_there, hooks_there:
            fds = (control_there.fileno(), hooks_there.fileno())
            # what this process imports, that one does (the modules of the functions sent)
            path = os.pathsep.join(entry or os.getcwd() for entry in sys.path)
            self._process = subprocess.Popen(
                [sys.executable, "-m", "hardware.id003.sim.process", *map(str, fds)],
                env={**os.environ, "PYTHONPATH": path},
                pass_fds=fds,
            )
        self._control, self._hooks = Connection(control.detach()), Connection(hooks.detach())
        self._listener = threading.Thread(target=self._listen, name="id003-sim-hooks", daemon=True)
        self._listener.start()
        self._control.send((self.timing, str(self.link)))
        self.realtime = bool(self._reply(10.0))
        return self

    def stop(self) -> None:
        if self._control is not None:
            with contextlib.suppress(OSError, EOFError, RuntimeError):
                self._request("stop")
            self._control.close()
        if self._process is not None:
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)
        if self._hooks is not None:
            self._hooks.close()
        if self._listener is not None:
            self._listener.join(5)

    def __enter__(self) -> SimulatorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- the simulator's API ---------------------------------------------------------------
    def control(self, action: Callable[[SimulatedDevice, float], T]) -> T:
        """Run ``action(device, now)`` in the simulator's process, under its lock."""
        return cast(T, self._request("control", pack(action)))

    def wait_for(self, predicate: Callable[[SimulatedDevice], bool], timeout: float) -> bool:
        """Wait until ``predicate(device)`` holds (checked there, under the lock)."""
        return bool(self._request("wait_for", pack(predicate), timeout, wait=timeout))

    def insert(self, value: int | None) -> bool:
        return bool(self._request("call", "insert", value))

    def pause(self, seconds: float | None = None) -> bool:
        return bool(self._request("call", "pause", seconds))

    def power_cut(self) -> None:
        self._request("call", "power_cut")

    def power_on(self) -> None:
        self._request("call", "power_on")

    def unplug(self) -> None:
        self._request("call", "unplug")

    def plug(self) -> None:
        self._request("call", "plug")

    @property
    def stacked(self) -> list[int]:
        return cast(list[int], self._request("get", "stacked"))

    @property
    def status(self) -> Frame:
        return cast(Frame, self._request("get", "status"))

    @property
    def host_connected(self) -> bool:
        return bool(self._request("get", "host_connected"))

    @property
    def trace(self) -> list[TraceEntry]:
        """A copy of the frames so far (``at`` is ``time.monotonic()``, the same clock here)."""
        return cast(list[TraceEntry], self._request("trace"))

    @property
    def faults(self) -> WireFaults:
        """The unit's wire faults: each read and each change goes to its process."""
        return cast(WireFaults, _RemoteFaults(self))

    @property
    def device(self) -> SimulatedDevice:
        """A copy of the device now, to read (see :class:`_Snapshot`)."""
        return cast(SimulatedDevice, _Snapshot(pickle.loads(self._request("snapshot"))))

    @property
    def on_receive(self) -> Callable[[Frame], None] | None:
        return self._hook

    @on_receive.setter
    def on_receive(self, hook: Callable[[Frame], None] | None) -> None:
        """From now on each host frame waits for ``hook`` before the unit handles it."""
        self._hook = hook
        if hook is not None:
            self._request("hook", True)
        else:  # no reply waited for: a hook may clear itself while the simulator waits for it
            self._send(("hook", (False,), False))

    # ---- plumbing ------------------------------------------------------------------------------
    def _send(self, message: object) -> None:
        assert self._control is not None, "not started"
        with self._send_lock:
            self._control.send(message)

    def _request(self, op: str, *args: object, wait: float = 0.0) -> Any:
        if threading.current_thread() is self._listener:
            raise RuntimeError("an on_receive hook cannot call the simulator: it waits for it")
        with self._request_lock:
            self._send((op, args, True))
            result = self._reply(wait + _REPLY_GRACE)
        if self._hook_errors:  # the first; the rest are as likely its echoes
            errors, self._hook_errors = self._hook_errors, []
            raise errors[0]
        return result

    def _reply(self, timeout: float) -> object:
        assert self._control is not None and self._process is not None
        try:
            if not self._control.poll(timeout):
                raise RuntimeError(f"the simulator process did not answer in {timeout:.0f} s")
            kind, value = self._control.recv()
        except (EOFError, OSError) as error:
            raise RuntimeError(
                f"the simulator process is gone (exit {self._process.poll()})"
            ) from error
        if kind == "error":
            raise cast(BaseException, value)
        return value

    def _listen(self) -> None:
        """Host frames while a hook is set: run it, then let the simulator go on."""
        assert self._hooks is not None
        while True:
            try:
                frame = self._hooks.recv()
            except (EOFError, OSError):
                return
            hook = self._hook
            if hook is not None:
                try:
                    hook(frame)
                except Exception as error:  # raised by the test's next call
                    self._hook_errors.append(error)
            try:
                self._hooks.send(True)
            except OSError:
                return


Simulator = AcceptorSimulator | SimulatorProcess  # for helpers that take either


@contextlib.contextmanager
def simulator_process(link: Path, timing: Timing) -> Iterator[SimulatorProcess]:
    """The simulator's process for the block's length."""
    with SimulatorProcess(link, timing) as simulator:
        yield simulator


if __name__ == "__main__":
    main(sys.argv)
