"""Kiosk configuration: TOML in, frozen dataclasses out. Every error names its key.

Each section's dataclass is the one place its keys' defaults are written: the parser takes a
missing key's value from the field of the same name.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import tomllib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hardware.card import POLL_TIMEOUT_S
from hardware.gpio_pins import DOOR_CLOSED_WHEN_PRESSED, FACTORIES, PIN_NAMES
from hardware.id003.protocol import ProtocolConfig
from hardware.readers import card_backend
from kiosk.config.wallet_files import WalletFileError, check_secret, check_tls_files
from kiosk.core.view import LANGUAGES
from kiosk.wallet.settings import WalletSettings

BUCKETS = ("base", "cafeteria", "textbook")

# sysexits.h EX_CONFIG: the kiosk cannot start as configured (a file or key is wrong). The
# systemd unit lists it in RestartPreventExitStatus: restarting would only fail the same way.
EXIT_CONFIG = 78


# The univcoop マイポータル, where step ① of a member's registration (the e-mail address) starts;
# the e-money member page (https://cm.univ.coop/mypage/login.php) comes after it.
DEFAULT_PORTAL_URL = "https://krm-system.powerappsportals.com/"
DEFAULT_TIME_ZONE = "Asia/Tokyo"  # the co-op's: every time members and staff see is in it


class ConfigError(ValueError):
    """A configuration problem, worded for the operator: ``[section] key: what is wrong``."""


@dataclass(frozen=True)
class KioskSection:
    id: str
    data_dir: Path
    language: str = LANGUAGES[0]
    min_free_mb: float = 32.0  # below this free space on the data dir no session starts
    portal_url: str = DEFAULT_PORTAL_URL  # where an unknown card's member registers (a QR code)
    time_zone: str = DEFAULT_TIME_ZONE  # an IANA name, whatever the machine's TZ


@dataclass(frozen=True)
class WalletSection:
    base_url: str
    client_id: str
    client_secret_file: Path
    client_cert: Path
    client_key: Path
    ca_file: Path | None
    shop_id: str
    timeout_s: float = WalletSettings.timeout_s

    def read_secret(self) -> str:
        return self.client_secret_file.read_text().strip()


@dataclass(frozen=True)
class CardSection:
    device: str
    lookup_money: str = "base"  # the bucket whose account's external_id holds the card id
    poll_timeout_s: float = POLL_TIMEOUT_S  # no poll completed for this long: out of service


@dataclass(frozen=True)
class AcceptorSection:
    port: str
    poll_ms: int = round(ProtocolConfig.poll_interval * 1000)  # the driver's own default


@dataclass(frozen=True)
class ChargeSection:
    idle_finish_s: float = 30.0  # accepting: no note for this long finishes and credits
    screen_timeout_s: float = 60.0  # any other screen: back to idle
    lookup_timeout_s: float = 12.0  # no member found by then: the wallet is unreachable


@dataclass(frozen=True)
class NoUiSection:
    money: str = "base"
    move_to: str | None = None  # instead of a charge, move ``move_amount`` here (マネー移動)
    move_amount: int = 1000


@dataclass(frozen=True)
class MoveSection:
    """マネー移動 directions offered (source, target): the co-op's member page offers these."""

    routes: tuple[tuple[str, str], ...] = (("base", "cafeteria"), ("base", "textbook"))


@dataclass(frozen=True)
class UiSection:
    maxfps: int = 30  # the UI's wake-ups per second while a member uses it (touch → frame)
    idle_fps: int = 10  # on the attract and out-of-service screens (idle CPU)
    sound: bool = True  # short sounds for touch, note counted, done and error
    voice: bool = True  # spoken prompts (the staff menu switches it; the journal keeps that)
    volume: int = 80  # the speaker's volume, 0-100 (the staff menu sets it too)


@dataclass(frozen=True)
class StaffSection:
    """Staff entry and the cash box (``paykiosk staff``, the service menu)."""

    max_pin_attempts: int = 5  # wrong PINs in a row before staff entry locks
    lockout_minutes: float = 15.0
    menu_timeout_s: float = 120.0  # the service menu closes itself after this long untouched
    stacker_capacity: int = 1000  # notes the acceptor's cash box holds
    near_full_percent: int = 90  # staff are warned from this fill on
    export_dir: Path | None = None  # CSV exports (e.g. a USB stick's mount point)
    # when the kiosk checks yesterday against the wallet's ledger by itself (HH:MM, the co-op's
    # time zone; a quiet hour): reconciliation; "off": only on demand
    reconcile_at: str = "03:30"


@dataclass(frozen=True)
class JournalSection:
    """The live journal and its monthly archives (retention, docs/journal-retention.md)."""

    working_days: int = 90  # closed records younger than this stay in the live journal
    retention_years: int = 7  # archives whose month ended longer ago are removed (the books)
    archive_at: str = "04:00"  # when the archive job runs (HH:MM, a quiet hour), or "off"


@dataclass(frozen=True)
class MetricsSection:
    """The Prometheus endpoint (``/metrics``): on by default, on the loopback only."""

    enabled: bool = True
    address: str = "127.0.0.1"  # 0.0.0.0 (or one of the machine's addresses) for a fleet monitor
    port: int = 9489


@dataclass(frozen=True)
class GpioSection:
    """Front panel pins (BCM numbers or gpiozero pin names); off unless ``enabled``."""

    enabled: bool = False
    pins: dict[str, int | str] = field(default_factory=dict)
    door_closed_when_pressed: bool = DOOR_CLOSED_WHEN_PRESSED
    pin_factory: str | None = None  # None: a real one on a Pi (an error if none loads), else mock


@dataclass(frozen=True)
class Config:
    kiosk: KioskSection
    wallet: WalletSection
    moneys: dict[str, str]  # bucket → private money id
    card: CardSection
    acceptor: AcceptorSection
    charge: ChargeSection = field(default_factory=ChargeSection)
    no_ui: NoUiSection = field(default_factory=NoUiSection)
    gpio: GpioSection = field(default_factory=GpioSection)
    source: Path | None = None
    ui: UiSection = field(default_factory=UiSection)
    staff: StaffSection = field(default_factory=StaffSection)
    metrics: MetricsSection = field(default_factory=MetricsSection)
    move: MoveSection = field(default_factory=MoveSection)
    journal: JournalSection = field(default_factory=JournalSection)

    @property
    def journal_path(self) -> Path:
        return self.kiosk.data_dir / "journal.sqlite3"

    @property
    def archive_dir(self) -> Path:
        """The journal's monthly archives (kiosk.journal.retention)."""
        return self.kiosk.data_dir / "archive"


class _Section:
    """Reads one TOML table, remembering which keys were used. A key that is not there takes
    the default of the field of the same name in ``shape`` (the section's dataclass)."""

    def __init__(self, name: str, data: Any, base: Path, shape: type | None = None) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"[{name}]: missing or not a table")
        self.name, self.data, self.base = name, data, base
        self.defaults = _defaults(shape) if shape is not None else {}
        self.used: set[str] = set()

    def _fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"[{self.name}] {key}: {problem}")

    def get(self, key: str, kind: type) -> Any:
        self.used.add(key)
        if key not in self.data:
            if key not in self.defaults:
                raise self._fail(key, "missing")
            return self.defaults[key]
        value = self.data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self._fail(key, f"must be {kind.__name__}, got {value!r}")
        if isinstance(value, str) and not value.strip():
            raise self._fail(key, "must not be empty")
        return value

    def path(self, key: str, must_exist: bool = True) -> Path | None:
        value = self.get(key, str)
        if value is None:
            return None
        path = Path(value)
        path = path if path.is_absolute() else self.base / path
        if must_exist and not path.exists():
            raise self._fail(key, f"{path} does not exist")
        return path

    def uuid(self, key: str) -> str:
        value = self.get(key, str)
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise self._fail(key, f"must be a UUID, got {value!r}") from None

    def number(self, key: str, kind: type, low: float, high: float) -> Any:
        value = self.get(key, kind)
        if not low <= value <= high:
            raise self._fail(key, f"must be between {low} and {high}, got {value}")
        return value

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise self._fail(unknown[0], "unknown key")


def _defaults(shape: type) -> dict[str, Any]:
    """The fields of a section's dataclass that have a default, by name."""
    found: dict[str, Any] = {}
    for item in dataclasses.fields(shape):
        if item.default is not dataclasses.MISSING:
            found[item.name] = item.default
        elif item.default_factory is not dataclasses.MISSING:
            found[item.name] = item.default_factory()
    return found


def _clock_time(section: _Section, key: str) -> str:
    """A time of day as ``HH:MM`` (24 h), or ``off``."""
    value: str = section.get(key, str).strip()
    if value == "off":
        return value
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise ConfigError(
            f"[{section.name}] {key}: must be a time like 03:30 or off, got {value!r}"
        )
    return f"{int(match[1]):02d}:{match[2]}"


def _check_time_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(
            f"[kiosk] time_zone: no time zone {name!r} on this system"
            " (an IANA name, such as Asia/Tokyo; Debian's tzdata package has them)"
        ) from None


def load(path: str | Path) -> Config:
    """Read and validate a config file."""
    source = Path(path)
    try:
        raw = tomllib.loads(source.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{source}: no such config file") from None
    except IsADirectoryError:
        raise ConfigError(f"{source}: is a directory, not a config file") from None
    except OSError as error:
        raise ConfigError(f"{source}: cannot read the config file: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: not valid TOML: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: not valid TOML: {error}") from None
    return parse(raw, source.parent.resolve(), source)


def parse(raw: dict[str, Any], base: Path, source: Path | None = None) -> Config:
    known = {"kiosk", "wallet", "moneys", "card", "acceptor", "charge", "no_ui", "gpio", "ui"}
    known |= {"staff", "metrics", "move", "journal"}
    for name in raw:
        if name not in known:
            raise ConfigError(f"[{name}]: unknown section")
    kiosk = _Section("kiosk", raw.get("kiosk"), base, KioskSection)
    kiosk_section = KioskSection(
        id=kiosk.get("id", str),
        data_dir=kiosk.path("data_dir", must_exist=False),  # type: ignore[arg-type]
        language=kiosk.get("language", str),
        min_free_mb=kiosk.number("min_free_mb", float, 0.0, 1_000_000.0),
        portal_url=kiosk.get("portal_url", str).strip(),
        time_zone=kiosk.get("time_zone", str).strip(),
    )
    _check_time_zone(kiosk_section.time_zone)
    portal = kiosk_section.portal_url
    if not re.fullmatch(r"https://[^/\s]+\S*", portal):  # shown as a QR code and as text
        raise ConfigError(f"[kiosk] portal_url: must be an https:// URL, got {portal!r}")
    if kiosk_section.language not in LANGUAGES:
        raise ConfigError(
            f"[kiosk] language: must be {' or '.join(LANGUAGES)}, got {kiosk_section.language!r}"
        )
    if kiosk_section.data_dir.exists() and not kiosk_section.data_dir.is_dir():
        raise ConfigError(f"[kiosk] data_dir: {kiosk_section.data_dir} is not a directory")
    kiosk.finish()
    wallet = _parse_wallet(_Section("wallet", raw.get("wallet"), base, WalletSection))
    moneys_section = _Section("moneys", raw.get("moneys"), base)
    moneys = {bucket: moneys_section.uuid(bucket) for bucket in BUCKETS}
    moneys_section.finish()
    card = _Section("card", raw.get("card"), base, CardSection)
    card_section = CardSection(
        card.get("device", str),
        card.get("lookup_money", str),
        # from 3 s: a udp test reader without a card takes 2 s a poll round
        card.number("poll_timeout_s", float, 3.0, 60.0),
    )
    try:
        card_backend(card_section.device)  # the readers' own rule
    except ValueError as error:
        raise ConfigError(f"[card] device: {error} (or pcsc, pcsc:NAME)") from None
    _check_bucket("card", "lookup_money", card_section.lookup_money)
    card.finish()
    acceptor = _Section("acceptor", raw.get("acceptor"), base, AcceptorSection)
    acceptor_section = AcceptorSection(
        acceptor.get("port", str), acceptor.number("poll_ms", int, 100, 200)
    )
    acceptor.finish()
    charge = _Section("charge", raw.get("charge", {}), base, ChargeSection)
    charge_section = ChargeSection(
        idle_finish_s=charge.number("idle_finish_s", float, 1.0, 600.0),
        screen_timeout_s=charge.number("screen_timeout_s", float, 5.0, 3600.0),
        lookup_timeout_s=charge.number("lookup_timeout_s", float, 2.0, 300.0),
    )
    charge.finish()
    no_ui = _Section("no_ui", raw.get("no_ui", {}), base, NoUiSection)
    no_ui_section = NoUiSection(
        no_ui.get("money", str),
        no_ui.get("move_to", str),
        no_ui.number("move_amount", int, 1, 10_000_000),
    )
    _check_bucket("no_ui", "money", no_ui_section.money)
    if no_ui_section.move_to is not None:
        _check_bucket("no_ui", "move_to", no_ui_section.move_to)
    no_ui.finish()
    gpio = _parse_gpio(_Section("gpio", raw.get("gpio", {}), base, GpioSection))
    ui = _Section("ui", raw.get("ui", {}), base, UiSection)
    ui_section = UiSection(
        ui.number("maxfps", int, 5, 60),
        ui.number("idle_fps", int, 2, 60),
        ui.get("sound", bool),
        ui.get("voice", bool),
        ui.number("volume", int, 0, 100),
    )
    ui.finish()
    staff = _Section("staff", raw.get("staff", {}), base, StaffSection)
    staff_section = StaffSection(
        staff.number("max_pin_attempts", int, 1, 20),
        staff.number("lockout_minutes", float, 0.0, 24 * 60.0),
        staff.number("menu_timeout_s", float, 10.0, 3600.0),
        staff.number("stacker_capacity", int, 10, 100_000),
        staff.number("near_full_percent", int, 1, 100),
        staff.path("export_dir", must_exist=False),
        _clock_time(staff, "reconcile_at"),
    )
    staff.finish()
    return Config(
        kiosk_section,
        wallet,
        moneys,
        card_section,
        acceptor_section,
        charge_section,
        no_ui_section,
        gpio,
        source,
        ui_section,
        staff_section,
        _parse_metrics(_Section("metrics", raw.get("metrics", {}), base, MetricsSection)),
        _parse_move(raw.get("move")),
        _parse_journal(_Section("journal", raw.get("journal", {}), base, JournalSection)),
    )


def _parse_journal(section: _Section) -> JournalSection:
    result = JournalSection(
        section.number("working_days", int, 7, 3650),
        section.number("retention_years", int, 1, 30),
        _clock_time(section, "archive_at"),
    )
    section.finish()
    if result.retention_years * 365 <= result.working_days:
        raise ConfigError(
            "[journal] retention_years: must be longer than working_days"
            f" ({result.retention_years} years ≤ {result.working_days} days)"
        )
    return result


def _parse_metrics(section: _Section) -> MetricsSection:
    address = section.get("address", str)
    try:
        ipaddress.ip_address(address)
    except ValueError:
        raise ConfigError(
            f"[metrics] address: must be an IP address (127.0.0.1, 0.0.0.0…), got {address!r}"
        ) from None
    result = MetricsSection(
        section.get("enabled", bool), address, section.number("port", int, 1, 65535)
    )
    section.finish()
    return result


def _parse_gpio(section: _Section) -> GpioSection:
    pins: dict[str, int | str] = {}
    for key in PIN_NAMES:
        if key in section.data:
            value = section.data[key]
            section.used.add(key)
            if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
                raise ConfigError(f"[gpio] {key}: must be a pin number or name, got {value!r}")
            pins[key] = value
    if len(set(pins.values())) < len(pins):
        raise ConfigError("[gpio]: two devices on the same pin")
    result = GpioSection(
        enabled=section.get("enabled", bool),
        pins=pins,
        door_closed_when_pressed=section.get("door_closed_when_pressed", bool),
        pin_factory=_pin_factory(section),
    )
    section.finish()
    return result


def _pin_factory(section: _Section) -> str | None:
    import importlib.metadata  # here: the rest of the config has no use for it

    value = section.get("pin_factory", str)
    if value is None:
        return None
    plugins = importlib.metadata.entry_points(group="gpiozero_pin_factories")
    known = sorted(set(FACTORIES) | {entry.name for entry in plugins})
    if value.lower() not in known:
        raise ConfigError(
            f"[gpio] pin_factory: must be one of {', '.join(known)} (or unset: a real one on a "
            f"Raspberry Pi, mock pins elsewhere), got {value!r}"
        )
    return str(value.lower())


def _parse_wallet(section: _Section) -> WalletSection:
    base_url = section.get("base_url", str)
    if not base_url.startswith("https://"):
        raise ConfigError(f"[wallet] base_url: must be an https:// URL, got {base_url!r}")
    secret = section.path("client_secret_file")
    assert secret is not None
    try:
        check_secret(secret)
    except WalletFileError as error:
        raise ConfigError(str(error)) from None
    result = WalletSection(
        base_url=base_url,
        client_id=section.uuid("client_id"),
        client_secret_file=secret,
        client_cert=section.path("client_cert"),  # type: ignore[arg-type]
        client_key=section.path("client_key"),  # type: ignore[arg-type]
        ca_file=section.path("ca_file"),
        shop_id=section.uuid("shop_id"),
        timeout_s=section.number("timeout_s", float, 0.5, 120.0),
    )
    section.finish()
    try:
        check_tls_files(result.client_cert, result.client_key, result.ca_file)
    except WalletFileError as error:
        raise ConfigError(str(error)) from None
    return result


def _check_bucket(section: str, key: str, value: str) -> None:
    if value not in BUCKETS:
        raise ConfigError(f"[{section}] {key}: must be one of {', '.join(BUCKETS)}, got {value!r}")


def _parse_move(data: Any) -> MoveSection:
    """``routes = ["base->cafeteria", "base->textbook"]`` (the default); ``[]`` offers none."""
    if data is None:
        return MoveSection()
    if not isinstance(data, dict):
        raise ConfigError("[move]: must be a table")
    unknown = sorted(set(data) - {"routes"})
    if unknown:
        raise ConfigError(f"[move] {unknown[0]}: unknown key")
    if "routes" not in data:
        return MoveSection()
    raw = data["routes"]
    if not isinstance(raw, list):
        raise ConfigError(f'[move] routes: must be a list like ["base->cafeteria"], got {raw!r}')
    routes: list[tuple[str, str]] = []
    for item in raw:
        route = _route(item)
        if route in routes:
            raise ConfigError(f"[move] routes: {item!r} is listed twice")
        routes.append(route)
    return MoveSection(tuple(routes))


def _route(item: object) -> tuple[str, str]:
    parts = [p.strip() for p in item.split("->")] if isinstance(item, str) else []
    if len(parts) != 2 or not all(p in BUCKETS for p in parts):
        raise ConfigError(
            f"[move] routes: {item!r} is not SOURCE->TARGET with each one of {', '.join(BUCKETS)}"
        )
    if parts[0] == parts[1]:
        raise ConfigError(f"[move] routes: {item!r} moves a money to itself")
    return parts[0], parts[1]


def wallet_settings(config: Config) -> WalletSettings:
    """The wallet client's settings (the running kiosk's, and a staff command's own client)."""
    wallet = config.wallet
    return WalletSettings(
        base_url=wallet.base_url,
        client_id=wallet.client_id,
        client_secret=wallet.read_secret(),
        client_cert=str(wallet.client_cert),
        client_key=str(wallet.client_key),
        ca_file=str(wallet.ca_file) if wallet.ca_file else None,
        shop_id=wallet.shop_id,
        timeout_s=wallet.timeout_s,
        language=config.kiosk.language,
    )
