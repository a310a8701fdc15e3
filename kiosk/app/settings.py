"""Each part's settings made from the configuration, in one place: the engine's, the wallet
client's and the touch UI's, and the process's time zone. The parts get plain values and never
read the configuration (``screens/`` does not import it); every default is the configuration's
own (:mod:`kiosk.config.settings`)."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from kiosk.config.settings import Config, ConfigError, KioskSection, UiSection
from kiosk.config.settings import wallet_settings as wallet_settings  # the runner's
from kiosk.engine.settings import EngineSettings

if TYPE_CHECKING:
    from screens.front import FrontSettings

NO_UI_DONE_S = 2.0  # --no-ui: nobody reads the result, the next card is served at once
SAMPLE_KIOSK = "K01"  # ``paykiosk screens``: the kiosk id the sample screens show


def engine_settings(config: Config, no_ui: bool) -> EngineSettings:
    settings = EngineSettings(
        kiosk_id=config.kiosk.id,
        moneys=dict(config.moneys),
        lookup_money=config.card.lookup_money,
        idle_finish_s=config.charge.idle_finish_s,
        screen_timeout_s=config.charge.screen_timeout_s,
        lookup_timeout_s=config.charge.lookup_timeout_s,
        min_free_mb=config.kiosk.min_free_mb,
        move_routes=config.move.routes,
    )
    if not no_ui:
        return settings
    move_to = config.no_ui.move_to
    return replace(
        settings,
        done_s=NO_UI_DONE_S,
        auto_money=config.no_ui.money,
        auto_move=None if move_to is None else (move_to, config.no_ui.move_amount),
    )


def front_settings(config: Config, **overrides: Any) -> FrontSettings:
    """The touch UI's settings (``overrides``: a window instead of the full screen, say)."""
    values: dict[str, Any] = {"kivy_home": config.kiosk.data_dir / "kivy", **overrides}
    return _front(config.kiosk, config.ui, **values)


def sample_front_settings() -> FrontSettings:
    """``paykiosk screens``: the sample screens as a kiosk with the default configuration
    shows them, in a window, silent, Kivy's files left where Kivy keeps them."""
    default = KioskSection(SAMPLE_KIOSK, Path())
    return _front(default, UiSection(), fullscreen=False, sound=False)


def _front(kiosk: KioskSection, ui: UiSection, **overrides: Any) -> FrontSettings:
    from screens.front import FrontSettings  # Kivy is not loaded by it, nor by this module

    values: dict[str, Any] = {
        "kiosk_id": kiosk.id,
        "lang": kiosk.language,
        "portal_url": kiosk.portal_url,
        "maxfps": ui.maxfps,
        "idle_fps": ui.idle_fps,
        "sound": ui.sound,
        "voice": ui.voice,
        "volume": ui.volume,
    }
    return FrontSettings(**{**values, **overrides})


PCSC_INSTALL = "pip install 'paykiosk[pcsc]' (systemd/install.sh: WITH_PCSC=1)"
VOICE_INSTALL = "apt-get install open-jtalk open-jtalk-mecab-naist-jdic espeak-ng"
SOUND_INSTALL = "pip install --force-reinstall 'kivy>=2.3,<2.4' (its wheels bring SDL2 audio)"


def check_installed(config: Config, ui: bool) -> None:
    """Every optional part the configuration asks for is installed here: else a
    :class:`ConfigError` naming the key and what to install, before a device starts or a
    window opens. ``ui``: the touch UI runs (its font, sound and voice)."""
    from hardware.readers import Backend, card_backend

    if card_backend(config.card.device).kind is Backend.PCSC:
        from hardware.pcsc import pyscard_missing

        if why := pyscard_missing():
            raise ConfigError(
                f'[card] device = "{config.card.device}": the PC/SC reader needs pyscard, which'
                f" cannot be loaded ({why}): {PCSC_INSTALL}"
            )
    if not ui:
        return
    check_font()
    from screens.sounds import audio_library_missing, sound_enabled
    from screens.speech import Speech

    if not (config.ui.sound and sound_enabled()):
        return  # no sound, no voice: nothing more to need
    if config.ui.voice:
        missing = [why for lang in ("ja", "en") if (why := Speech.missing(lang))]
        if missing:
            raise ConfigError(
                f"[ui] voice: {'; '.join(missing)}: {VOICE_INSTALL}, or set voice = false"
            )
    if why := audio_library_missing():
        raise ConfigError(f"[ui] sound: {why}: {SOUND_INSTALL}, or set sound = false")


def check_font() -> None:
    """The UI's Japanese font is there: a :class:`ConfigError` before any window opens."""
    from screens.fonts import FontMissing, font_path  # no Kivy import

    try:
        font_path()
    except FontMissing as error:
        raise ConfigError(str(error)) from error


def use_time_zone(name: str) -> None:
    """Make ``name`` (an IANA zone the configuration checked) this process's local time, whatever
    the machine's ``TZ``: every time shown to members and staff (history, receipts, staff
    screens, reports, exports, case references' dates) is local time, read through the C
    library's (``time.localtime``, ``datetime.astimezone()``, ``%Z``). A :class:`ConfigError`
    if the C library has no data for it (Python found it elsewhere: the ``tzdata`` package)."""
    os.environ["TZ"] = name
    time.tzset()
    zone = ZoneInfo(name)
    for at in (time.time(), 1_767_225_600.0, 1_782_864_000.0):  # now, 1 January, 1 July 2026
        local, known = datetime.fromtimestamp(at).astimezone(), datetime.fromtimestamp(at, zone)
        if (local.utcoffset(), local.tzname()) != (known.utcoffset(), known.tzname()):
            raise ConfigError(
                f"[kiosk] time_zone: the system has no time zone data for {name}"
                " (install Debian's tzdata)"
            )
