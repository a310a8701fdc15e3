"""Each part's settings made from the configuration, in one place: the engine's, the wallet
client's and the touch UI's. The parts get plain values and never read the configuration
(``screens/`` does not import it); every default is the configuration's own
(:mod:`kiosk.config.settings`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.config.settings import Config, ConfigError, KioskSection, UiSection
from kiosk.engine.settings import EngineSettings
from kiosk.wallet.settings import WalletSettings

if TYPE_CHECKING:
    from screens.front import FrontSettings

NO_UI_DONE_S = 2.0  # --no-ui: nobody reads the result, the next card is served at once
SAMPLE_KIOSK = "K01"  # ``paykiosk screens``: the kiosk id the sample screens show


def wallet_settings(config: Config) -> WalletSettings:
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
    }
    return FrontSettings(**{**values, **overrides})


def check_font() -> None:
    """The UI's Japanese font is there: a :class:`ConfigError` before any window opens."""
    from screens.fonts import FontMissing, font_path  # no Kivy import

    try:
        font_path()
    except FontMissing as error:
        raise ConfigError(str(error)) from error
