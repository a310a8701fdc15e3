"""The Pi's own platform, as far as this machine can: an arm64 Debian 12 root under qemu.

    sudo python3 -m bench.arm64_root [--root DIR] [--keep] [--mirror URL] [--logs DIR]

Builds an arm64 Debian 12 root (``debootstrap --arch=arm64 --variant=minbase bookworm``, from
the Debian mirror this machine's apt uses; binfmt_misc runs its programs through
qemu-user-static), copies this checkout's git HEAD into it and, inside it (chroot, as a new
user would): runs the README's demo set-up line, the console demo's charge of ¥6,000,
``systemd/install.sh`` staged with ``DESTDIR``, the Debian packages install.sh names for a
PC/SC reader, and the ``[pcsc]`` extra's build (pyscard compiled from source). Prints each
step, whether it passed and how long it took; exits 1 if one failed. Needs root and the
standard library only; takes many minutes, so it is not in the README's test command.
Without ``--keep`` the root is removed at the end; ``--root DIR --keep`` keeps it, and a later
run with the same ``--root`` reuses it (debootstrap alone takes minutes). Every run copies the
repository afresh and empties pip's cache (apt's packages stay installed in a reused root).
"""

from __future__ import annotations

import argparse
import os
import platform
import pwd
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
HOST_TOOLS = ("qemu-user-static", "binfmt-support", "debootstrap")
BINFMT = Path("/proc/sys/fs/binfmt_misc")
QEMU = Path("/usr/bin/qemu-aarch64-static")
MARKER = ".paykiosk-arm64-root"  # written once debootstrap finished: the root may be reused
CHECKOUT = "/root/paykiosk"  # where the repository goes inside the root
STAGE = "/root/stage"  # install.sh's DESTDIR inside the root
# pip's CA bundle as this machine names it (its ``cert`` setting), copied in: Debian's own bundle
# in the root lacks any CA this machine adds for its way to the package index.
PIP_CA = "/etc/pip-ca.crt"
APT_LOCK = ("-o", "DPkg::Lock::Timeout=600")  # other users of this machine's apt: wait
DEMO = ".venv/bin/paykiosk --demo --console"
CHROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BINFMT_FIX = (
    "mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc && "
    "update-binfmts --enable qemu-aarch64 (in a container: on the host, or run it privileged)"
)

# The console demo's charge: (what to type, the line to wait for before the next command).
CHARGE: tuple[tuple[str | None, str], ...] = (
    (None, "ready: touch your card"),
    ("t1", "生協 太郎: base"),
    ("b", "insert notes into base: in ¥0,"),
    ("1", "insert notes into base: in ¥1,000,"),
    ("5", "insert notes into base: in ¥6,000,"),
    ("f", "done: ¥6,000 credited to base"),
    ("pending", "open staff cases:"),
)
# A note fed again, as a member would: the unit was still busy with the last one ("note not
# taken"), or handed it back because it was not yet enabled ("a note not accepted").
REFED = ("note not taken", "a note not accepted")


class StepFailed(Exception):
    """A step's own check failed; the message says what was seen."""


@dataclass
class Step:
    name: str
    result: str = "skipped"
    seconds: float = 0.0
    load: float = 0.0  # this machine's 1-minute load average when the step ended
    note: str = ""


@dataclass
class Run:
    root: Path
    logs: Path
    mirror: str
    wait_s: float
    steps: list[Step] = field(default_factory=list)

    def step(self, name: str, action: Callable[[Path], str], needs: tuple[str, ...] = ()) -> bool:
        """Run one step (its output in its own log), record its result and time."""
        step = Step(name)
        self.steps.append(step)
        done = {s.name for s in self.steps if s.result in ("passed", "reused")}
        if not_done := [n for n in needs if n not in done]:
            step.note = "needs: " + ", ".join(not_done)
            return False
        log = self.logs / (re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") + ".log")
        print(f"→ {name} (log: {log})", flush=True)
        started = time.monotonic()
        try:
            step.note = action(log)
            step.result = "reused" if step.note.startswith("reused") else "passed"
        except KeyboardInterrupt:
            step.result, step.note = "FAILED", "interrupted"
            step.seconds = time.monotonic() - started
            raise
        except (StepFailed, subprocess.SubprocessError, OSError) as error:
            step.result = "FAILED"
            step.note = str(error).splitlines()[0] if str(error) else type(error).__name__
            if log.exists():
                tail = log.read_text(errors="replace").splitlines()[-15:]
                print("\n".join("    " + line for line in tail), flush=True)
        step.seconds = time.monotonic() - started
        step.load = os.getloadavg()[0]
        print(f"  {step.result} in {step.seconds:.1f} s {step.note}", flush=True)
        return step.result != "FAILED"


def run_logged(
    command: list[str], log: Path, timeout: float, env: dict[str, str] | None = None
) -> str:
    """Run a command with its output appended to ``log``; fail the step on a non-zero exit."""
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        done = subprocess.run(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, timeout=timeout, check=False
        )
    if done.returncode != 0:
        raise StepFailed(f"exit {done.returncode}: {' '.join(command)[:120]}")
    return log.read_text(errors="replace")


def chroot_env(root: Path) -> dict[str, str]:
    """A login-like environment for the root, with this machine's pip settings (same index)."""
    env = {
        "HOME": "/root",
        "PATH": CHROOT_PATH,
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "DEBIAN_FRONTEND": "noninteractive",
        "PYTHONUNBUFFERED": "1",
    }
    env.update({k: v for k, v in os.environ.items() if k.startswith("PIP_")})
    if (root / PIP_CA.lstrip("/")).is_file():
        env["PIP_CERT"] = PIP_CA
    return env


def in_root(root: Path, script: str, log: Path, timeout: float) -> str:
    """Run a shell line inside the root (chroot), from the checkout."""
    command = ["chroot", str(root), "/bin/bash", "-c", f"cd {CHECKOUT} 2>/dev/null; {script}"]
    try:
        return run_logged(command, log, timeout, env=chroot_env(root))
    finally:
        kill_inside(root)


def kill_inside(root: Path) -> None:
    """End what this run left running inside its root (e.g. a daemon a package started)."""
    target = str(root.resolve())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with suppress(OSError):
            if os.readlink(entry / "root") == target:
                os.kill(int(entry.name), signal.SIGKILL)


def mounts_under(root: Path) -> list[str]:
    target = str(root.resolve())
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point == target or point.startswith(target + "/"):
            found.append(point)
    return found


def unmount_all(root: Path) -> None:
    kill_inside(root)
    for point in sorted(mounts_under(root), key=len, reverse=True):
        if subprocess.run(["umount", point], capture_output=True, check=False).returncode:
            subprocess.run(["umount", "--lazy", point], capture_output=True, check=False)


@contextmanager
def mounted(root: Path) -> Iterator[None]:
    """proc, sys, dev and dev/pts in the root (the demo's acceptor is a pty), unmounted on
    every path out."""
    points = (
        ("proc", ["-t", "proc", "proc"]),
        ("sys", ["-t", "sysfs", "sysfs"]),
        ("dev", ["--bind", "/dev"]),
        ("dev/pts", ["--bind", "/dev/pts"]),
    )
    try:
        for name, how in points:
            (root / name).mkdir(parents=True, exist_ok=True)
            subprocess.run(["mount", *how, str(root / name)], check=True, capture_output=True)
        yield
    finally:
        unmount_all(root)


# --- the steps -----------------------------------------------------------------------------


def host_tools(log: Path) -> str:
    missing = [
        p
        for p in HOST_TOOLS
        if subprocess.run(["dpkg", "-s", p], capture_output=True, check=False).returncode
    ]
    if not missing:
        return "already installed"
    run_logged(["apt-get", *APT_LOCK, "update"], log, 900)
    run_logged(["apt-get", *APT_LOCK, "install", "-y", *missing], log, 1800)
    return "installed " + " ".join(missing)


def binfmt(log: Path) -> str:
    """qemu-aarch64 registered with binfmt_misc; one line saying how to fix it if not."""
    if not (BINFMT / "register").exists():
        run_logged(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT)], log, 60)
    entry = BINFMT / "qemu-aarch64"
    if not entry.exists():
        with suppress(StepFailed):
            run_logged(["update-binfmts", "--enable", "qemu-aarch64"], log, 60)
    if not entry.exists() or not entry.read_text().startswith("enabled"):
        print(f"binfmt_misc: qemu-aarch64 is not registered; fix: {BINFMT_FIX}", flush=True)
        raise StepFailed("qemu-aarch64 not registered with binfmt_misc")
    fields = dict(line.split(" ", 1) for line in entry.read_text().splitlines() if " " in line)
    flags = fields.get("flags:", "").strip()
    return f"qemu-aarch64 enabled, flags {flags or '-'}"


def debootstrap(root: Path, mirror: str, log: Path) -> str:
    if (root / MARKER).exists():
        return "reused: " + (root / MARKER).read_text().strip()
    if root.exists() and any(root.iterdir()):
        raise StepFailed(f"{root} is not empty and not a root this script made")
    root.mkdir(parents=True, exist_ok=True)
    if "F" not in (BINFMT / "qemu-aarch64").read_text():
        # Without binfmt's "fix binary" flag the interpreter must exist inside the root.
        (root / "usr/bin").mkdir(parents=True, exist_ok=True)
        shutil.copy2(QEMU, root / "usr/bin" / QEMU.name)
    run_logged(
        ["debootstrap", "--arch=arm64", "--variant=minbase", SUITE, str(root), mirror], log, 3600
    )
    machine = subprocess.run(
        ["chroot", str(root), "uname", "-m"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if machine != "aarch64":
        raise StepFailed(f"uname -m in the root says {machine!r}")
    (root / MARKER).write_text(f"{SUITE} arm64 minbase from {mirror}, {time.ctime()}\n")
    return f"uname -m in the root: {machine}"


def apt_sources(mirror: str) -> list[Path]:
    """This machine's apt source files that use the mirror (suite, updates, security)."""
    candidates = [Path("/etc/apt/sources.list")]
    folder = Path("/etc/apt/sources.list.d")
    if folder.is_dir():
        candidates += sorted(folder.glob("*.list")) + sorted(folder.glob("*.sources"))
    return [p for p in candidates if p.is_file() and mirror.rstrip("/") in p.read_text()]


def host_mirror() -> str:
    """The Debian mirror this machine's apt uses for bookworm."""
    for path in apt_sources(""):
        text = path.read_text()
        for stanza in re.split(r"\n\s*\n", text):  # deb822 .sources
            fields: dict[str, str] = dict(re.findall(r"^(\w[\w-]*):\s*(.*)$", stanza, re.M))
            if SUITE in fields.get("Suites", "").split() and "deb" in fields.get("Types", ""):
                return fields.get("URIs", "").split()[0]
        for match in re.finditer(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+(\S+)", text, re.M):
            if match.group(2) == SUITE:
                return str(match.group(1))
    return DEFAULT_MIRROR


def pip_cert(config_files: list[Path]) -> Path | None:
    """The CA bundle pip uses here: ``PIP_CERT``, else the last ``cert`` in its config files."""
    named = os.environ.get("PIP_CERT")
    for path in config_files if not named else []:
        for match in re.finditer(r"^\s*cert\s*=\s*(\S+)", path.read_text(), re.M):
            named = match.group(1)
    return Path(named) if named and Path(named).is_file() else None


def invoking_home() -> Path:
    user = os.environ.get("SUDO_USER")
    return Path(pwd.getpwnam(user).pw_dir) if user else Path.home()


def prepare(root: Path, mirror: str, log: Path) -> str:
    """apt's sources, DNS and pip's settings as on this machine; the checkout copied afresh."""
    copied = apt_sources(mirror)
    if copied:
        (root / "etc/apt/sources.list").unlink(missing_ok=True)
        for source in copied:
            shutil.copy2(source, root / source.relative_to("/"))
    (root / "etc/resolv.conf").unlink(missing_ok=True)
    (root / "etc/resolv.conf").write_text(Path("/etc/resolv.conf").read_text())
    # A package's maintainer script must not start its daemon inside the root (it would run
    # on and hold the mounts); a real machine starts it at boot.
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    pip_files = [Path("/etc/pip.conf"), *sorted(Path("/etc/xdg/pip").glob("*"))]
    pip_files = [p for p in pip_files if p.is_file()]
    for path in pip_files:
        (root / path.parent.relative_to("/")).mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, root / path.relative_to("/"))
    user_conf = invoking_home() / ".config/pip/pip.conf"
    if user_conf.is_file():
        (root / "root/.config/pip").mkdir(parents=True, exist_ok=True)
        shutil.copy2(user_conf, root / "root/.config/pip/pip.conf")
        pip_files.append(user_conf)
    ca = pip_cert(pip_files)
    if ca is not None:
        shutil.copy2(ca, root / PIP_CA.lstrip("/"))
    # A new user's first install: no pip cache from an earlier run of this script.
    shutil.rmtree(root / "root/.cache/pip", ignore_errors=True)
    checkout = root / CHECKOUT.lstrip("/")
    shutil.rmtree(checkout, ignore_errors=True)
    checkout.mkdir(parents=True)
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    archive = subprocess.Popen(
        ["git", "-C", str(REPO), "archive", "--format=tar", "HEAD"], stdout=subprocess.PIPE
    )
    extract = subprocess.run(["tar", "-x", "-C", str(checkout)], stdin=archive.stdout, check=False)
    if archive.wait() or extract.returncode:
        raise StepFailed("git archive HEAD | tar -x failed")
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with log.open("a") as out:
        out.write(f"apt sources: {[str(p) for p in copied]}\npip: {[str(p) for p in pip_files]}\n")
    note = f"HEAD {commit}" + (" (uncommitted changes not copied)" if dirty else "")
    note += f"; pip settings: {', '.join(str(p) for p in pip_files) or 'none'}"
    return note + (f"; pip's CA bundle {ca}" if ca else "")


def demo_setup_line() -> str:
    """The README's demo command, without the final ``paykiosk --demo`` (it wants a display)."""
    lines = (REPO / "README.md").read_text().splitlines()
    start = lines.index("<!-- demo-command -->")
    block = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("```"))
    parts = lines[block + 1].split(" && ")
    if "paykiosk --demo" not in parts[-1]:
        raise StepFailed("the README's demo command does not end in paykiosk --demo")
    return " && ".join(parts[:-1])


def demo_setup(root: Path, log: Path) -> str:
    line = demo_setup_line()
    in_root(root, line, log, 3600)
    return f"`{line[:60]}…`"


def console_charge(root: Path, log: Path, wait_s: float) -> str:
    """``paykiosk --demo --console`` fed the charge's commands, each once the line before it
    is printed (qemu makes every step several times slower than here)."""
    process = subprocess.Popen(
        ["chroot", str(root), "/bin/bash", "-c", f"cd {CHECKOUT} && {DEMO}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=chroot_env(root),
        text=True,
        encoding="utf-8",
        errors="replace",
        start_new_session=True,
    )
    assert process.stdin is not None and process.stdout is not None
    stdin = process.stdin
    lines: queue.Queue[str | None] = queue.Queue()
    transcript: list[str] = []

    def read(stream: Iterator[str]) -> None:
        with log.open("a") as out:
            for line in stream:
                out.write(line)
                out.flush()
                lines.put(line)
        lines.put(None)

    threading.Thread(target=read, args=(process.stdout,), daemon=True).start()
    started = time.monotonic()
    times: list[str] = []

    retries = 0

    def send(command: str) -> None:
        stdin.write(command + "\n")
        stdin.flush()

    def wait_for(text: str, command: str | None = None) -> None:
        nonlocal retries
        deadline = time.monotonic() + wait_s
        while True:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise StepFailed(f"no {text!r} within {wait_s:.0f} s") from None
            if line is None:
                raise StepFailed(f"the demo ended before {text!r} (exit {process.wait()})")
            transcript.append(line)
            if text in line:
                return
            if command is not None and any(r in line for r in REFED) and retries < 30:
                retries += 1
                time.sleep(1)
                send(command)

    try:
        for command, expected in CHARGE:
            if command is not None:
                send(command)
            wait_for(expected, command)
            if command is None:
                times.append(f"ready after {time.monotonic() - started:.0f} s")
        wait_for("  none")  # the staff cases: the pending report is complete
        send("q")
        code = process.wait(timeout=wait_s)
    finally:
        if process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        kill_inside(root)
    report = "".join(transcript)
    if not re.search(r"credits not yet confirmed:\n\s+none", report):
        raise StepFailed("the pending report shows an unconfirmed credit")
    if code != 0:
        raise StepFailed(f"the demo exited {code} after q")
    done = next(line for line in transcript if "done: ¥6,000" in line).strip()
    times.append(f"charge done {time.monotonic() - started:.0f} s after start")
    if retries:
        times.append(f"{retries} note(s) fed again (unit busy or not yet enabled)")
    return f"{done!r}; " + ", ".join(times)


def staged_install(root: Path, log: Path) -> tuple[str, list[str]]:
    """install.sh with DESTDIR (WITH_PCSC=1, so it names every package it would install);
    systemctl (for ``--root`` enabling) comes with systemd, as on any Pi OS."""
    in_root(root, f"apt-get {' '.join(APT_LOCK)} install -y systemd", log, 1800)
    text = in_root(
        root,
        f"rm -rf {STAGE} && DESTDIR={STAGE} KIOSK_USER=nobody KIOSK_GROUP=nogroup WITH_PCSC=1 "
        "sh systemd/install.sh",
        log,
        1800,
    )
    match = re.search(r"packages not installed \(([^)]*)\)", text)
    if not match:
        raise StepFailed("install.sh did not name the packages it would install")
    stage = root / STAGE.lstrip("/")
    wanted = stage / "etc/systemd/system/multi-user.target.wants/paykiosk.service"
    for path in (
        stage / "opt/paykiosk/.venv/bin/paykiosk",
        stage / "etc/paykiosk/paykiosk.toml",
        stage / "etc/paykiosk/client_secret",
        stage / "etc/udev/rules.d/99-paykiosk.rules",
    ):
        if not path.is_file():
            raise StepFailed(f"not staged: {path.relative_to(stage)}")
    if not wanted.is_symlink():
        raise StepFailed("the unit is not enabled in the stage")
    mode = oct((stage / "etc/paykiosk/client_secret").stat().st_mode & 0o777)
    if mode != "0o600":
        raise StepFailed(f"client_secret staged with mode {mode}")
    version = (
        in_root(
            root,
            f'{STAGE}/opt/paykiosk/.venv/bin/python -c "import importlib.metadata as m, platform; '
            "print('staged', m.version('paykiosk'), platform.machine())\"",
            log,
            600,
        )
        .strip()
        .splitlines()[-1]
    )
    return f"{version}; unit enabled, client_secret 0600", match.group(1).split()


def packages(root: Path, log: Path, names: list[str]) -> str:
    in_root(root, f"apt-get {' '.join(APT_LOCK)} install -y {' '.join(names)}", log, 3600)
    return f"{len(names)} packages: {' '.join(names)}"


def pcsc_build(root: Path, log: Path) -> str:
    """The ``[pcsc]`` extra into the demo's venv, pyscard built here (no cache, no wheel)."""
    text = in_root(
        root,
        ".venv/bin/pip install --no-cache-dir -e '.[pcsc]' && .venv/bin/python -c "
        '"import smartcard.scard, platform, importlib.metadata as m; '
        "print('pyscard', m.version('pyscard'), platform.machine())\"",
        log,
        3600,
    )
    if "Building wheel for pyscard" not in text:
        raise StepFailed("pyscard was not built from source (a wheel was used)")
    return text.strip().splitlines()[-1] + ", compiled from source"


# --- the run -------------------------------------------------------------------------------


def table(steps: list[Step]) -> str:
    rows = ["| step | result | time | load | note |", "|---|---|---|---|---|"]
    rows += [
        f"| {s.name} | {s.result} | {s.seconds:.0f} s | {s.load:.1f} | {s.note} |" for s in steps
    ]
    return "\n".join(rows)


def stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--root", type=Path, help="the arm64 root (reused if this script made it)")
    parser.add_argument("--keep", action="store_true", help="keep the root for the next run")
    parser.add_argument("--mirror", help="Debian mirror (default: the one apt uses here)")
    parser.add_argument("--logs", type=Path, help="folder for each step's log")
    parser.add_argument("--wait", type=float, default=600, help="s to wait for each demo line")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("arm64_root: run as root (debootstrap, chroot, mount)", file=sys.stderr)
        return 2
    # SIGTERM leaves the way Ctrl-C does: the mounts go, the table is printed.
    signal.signal(signal.SIGTERM, stop)
    root = (args.root or Path(tempfile.mkdtemp(prefix="paykiosk-arm64-"))).resolve()
    # Removed at the end only if this script made it (never a folder it was pointed at).
    ours = args.root is None or not root.exists() or (root / MARKER).exists()
    logs = args.logs or Path(tempfile.mkdtemp(prefix="paykiosk-arm64-logs-"))
    logs.mkdir(parents=True, exist_ok=True)
    mirror = args.mirror or host_mirror()
    run = Run(root, logs, mirror, args.wait)
    load_before = os.getloadavg()
    print(
        f"arm64 root {root}, mirror {mirror}; this machine: {platform.machine()}, "
        f"{os.cpu_count()} cores, load {load_before[0]:.2f}",
        flush=True,
    )
    started = time.monotonic()
    unmount_all(root)  # an earlier run that was killed outright
    try:
        run.step("host tools", host_tools)
        run.step("binfmt_misc", binfmt, needs=("host tools",))
        run.step(
            "debootstrap arm64 bookworm",
            lambda log: debootstrap(root, mirror, log),
            needs=("binfmt_misc",),
        )
        ok = run.step(
            "copy repository, apt/pip settings",
            lambda log: prepare(root, mirror, log),
            needs=("debootstrap arm64 bookworm",),
        )
        if ok:
            with mounted(root):
                run_inside(run)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    finally:
        unmount_all(root)
        left = mounts_under(root)
        if left:
            print(f"still mounted, root left in place: {left}", flush=True)
        elif not args.keep and (ours or (root / MARKER).exists()):
            shutil.rmtree(root, ignore_errors=True)
    load_after = os.getloadavg()
    total = time.monotonic() - started
    print()
    print(table(run.steps))
    print(
        f"\ntotal {total:.0f} s; load average (1 min) {load_before[0]:.2f} at start, "
        f"{load_after[0]:.2f} at end; logs in {logs}"
        + (f"; root kept: {root}" if args.keep else "")
    )
    return 1 if any(s.result == "FAILED" for s in run.steps) else 0


def run_inside(run: Run) -> None:
    root = run.root
    setup = "README demo set-up line"
    run.step(setup, lambda log: demo_setup(root, log))
    run.step(
        "console demo charge (¥6,000)",
        lambda log: console_charge(root, log, run.wait_s),
        needs=(setup,),
    )
    named: list[str] = []

    def stage(log: Path) -> str:
        note, names = staged_install(root, log)
        named.extend(names)
        return note

    run.step("install.sh staged (DESTDIR)", stage, needs=(setup,))
    run.step(
        "install.sh's packages (WITH_PCSC=1)",
        lambda log: packages(root, log, named),
        needs=("install.sh staged (DESTDIR)",),
    )
    run.step(
        "[pcsc] extra built (pyscard)",
        lambda log: pcsc_build(root, log),
        needs=(setup, "install.sh's packages (WITH_PCSC=1)"),
    )


if __name__ == "__main__":
    sys.exit(main())
