"""Text commands that steer the acceptor simulator (demo console, `paykiosk acceptor-sim`)."""

from __future__ import annotations

import time

from hardware.id003.codes import Status, enum_name
from hardware.id003.sim.process import Simulator
from hardware.id003.sim.simulator import AcceptorSimulator

# One-key notes, shared with the demo's console: key → value of the note fed.
NOTE_KEYS: dict[str, int] = {"1": 1000, "2": 2000, "5": 5000, "0": 10000}
UNREADABLE_KEY = "x"  # a note the unit cannot recognise

_KEYS = " ".join(NOTE_KEYS).ljust(32)
_VALUES = " / ".join(f"¥{value:,}" for value in NOTE_KEYS.values())

HELP = f"""\
insert 1000                     feed a ¥1,000 note (insert VALUE: any note the unit knows)
{_KEYS}feed a {_VALUES} note
insert unknown | {UNREADABLE_KEY}              feed a note the unit cannot read
jam before|after                jam the next note before/after VEND VALID
clear                           staff clear a jam
stacker open|close              remove / put back the cash box
full                            make the cash box full (capacity = notes inside)
collect                         empty the cash box
fail CODE                       hardware failure (hex code, e.g. A2); cleared by RESET
cheat                           the next note is a cheat attempt
pause [SECONDS]                 a second note pushed in while stacking: PAUSE (default 1 s),
                                now if a note is stacking, else during the next note's stacking
power-cut [SECONDS]             cut the unit's power (default 1 s) and restore it
unplug [SECONDS]                pull the USB serial adapter (default 2 s) and plug it back
delay SECONDS                   delay every reply
drop N | corrupt N              drop / break the CRC of the next N replies
garbage                         send junk bytes before the next reply
silent on|off                   the unit stops / resumes answering
status                          show the unit's state and cash box
help                            this list"""


def run_command(sim: Simulator, line: str) -> str:
    """Apply one command line; returns a short human answer. Raises ValueError if unknown."""
    words = line.split()
    if not words:
        return ""
    verb, args = words[0].lower(), words[1:]
    arg = args[0].lower() if args else ""
    faults = sim.faults
    if verb in NOTE_KEYS and not args:
        verb, arg = "insert", str(NOTE_KEYS[verb])
    elif verb == UNREADABLE_KEY and not args:
        verb, arg = "insert", "unknown"
    if verb == "insert":
        value = None if arg in ("unknown", UNREADABLE_KEY, "") else int(arg)
        if sim.insert(value):
            return "note fed"
        return f"unit busy ({enum_name(Status, sim.status.code)}): note not taken"
    if verb in ("help", "?"):
        return HELP
    if verb == "jam" and arg in ("before", "after"):
        sim.control(lambda d, now: setattr(d, "jam_next", f"{arg}_vend"))
        return f"the next note jams {arg} VEND VALID"
    if verb == "clear":
        sim.control(lambda d, now: d.clear_jam(now))
        return "jam cleared"
    if verb == "stacker" and arg in ("open", "close"):
        sim.control(lambda d, now: setattr(d, "stacker_open", arg == "open"))
        return f"stacker {arg}"
    if verb == "full":
        sim.control(lambda d, now: setattr(d, "capacity", len(d.counters.stacked)))
        return "cash box full"
    if verb == "collect":
        box = sim.control(lambda d, now: d.collect())
        return f"collected {len(box)} notes, ¥{sum(box):,}"
    if verb == "fail":
        code = int(arg or "a2", 16)
        sim.control(lambda d, now: setattr(d, "failure_code", code))
        return f"failure 0x{code:02X}"
    if verb == "cheat":
        sim.control(lambda d, now: setattr(d, "cheat_next", True))
        return "the next note is a cheat attempt"
    if verb == "pause":
        seconds = float(arg) if arg else None
        shown = f"{sim.device.timing.pause if seconds is None else seconds:g} s"
        if sim.pause(seconds):
            return f"PAUSE for {shown}"
        return f"the next note pauses {shown} while stacking"
    if verb == "power-cut":
        sim.power_cut()
        time.sleep(float(arg or 1))
        sim.power_on()
        return "power restored"
    if verb == "unplug":
        sim.unplug()
        time.sleep(float(arg or 2))
        sim.plug()
        return "plugged back"
    if verb == "delay":
        faults.reply_delay = float(arg)
        return f"replies delayed {faults.reply_delay:.3f} s"
    if verb in ("drop", "corrupt"):
        setattr(faults, f"{verb}_replies", int(arg or 1))
        return f"{verb} the next {arg or 1} replies"
    if verb == "garbage":
        faults.garbage = bytes.fromhex("FC 00 13 FC FF 05 11")
        return "junk before the next reply"
    if verb == "silent":
        faults.silent = arg != "off"
        return "silent" if faults.silent else "answering"
    if verb == "status":
        box = sim.stacked
        return f"status {sim.status} · cash box {len(box)} notes ¥{sum(box):,}"
    raise ValueError(f"unknown command {line!r}; commands:\n{HELP}")


def main(link: str | None = None) -> int:
    """Run a simulator and read commands from stdin until EOF or ``quit``."""
    sim = AcceptorSimulator(link=link).start()
    print(f"ID-003 simulator on {sim.path}\n{HELP}", flush=True)
    try:
        while True:
            try:
                line = input("sim> ")
            except EOFError:
                break
            if line.strip() in ("quit", "q", "exit"):
                break
            try:
                print(run_command(sim, line), flush=True)
            except ValueError as error:
                print(error, flush=True)
    finally:
        sim.stop()
    return 0
