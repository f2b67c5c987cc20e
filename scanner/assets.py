"""Where the detection assets (models/) and default config (config/) live.

From a source checkout they are the top-level folders; an installed wheel carries them as
``scanner/_assets/{models,config}`` (see pyproject's force-include).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _asset_dir(name: str) -> Path:
    installed = _PACKAGE / "_assets" / name
    if installed.is_dir():
        return installed
    checkout = _PACKAGE.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"sendguard asset folder {name!r} not found (looked in {installed}, {checkout})")


def models_dir() -> Path:
    return _asset_dir("models")


def config_dir() -> Path:
    return _asset_dir("config")
