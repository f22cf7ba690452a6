"""The Chinese font every document embeds: [documents] font, else the first of the known
Noto Sans CJK SC / Source Han Sans SC / WenQuanYi files found on the machine."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from kit.errors import BadInput

__all__ = ["KNOWN_PATHS", "CjkFont", "find_font", "font_for_config"]

# Simplified Chinese first; the usual install paths of Debian/Ubuntu, Fedora, Arch, Alpine,
# macOS and a user's own font folder. A collection (.ttc) holds several faces: the SC one
# is chosen by its family name, not by a fixed index.
_NAMES = (
    "NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf", "NotoSansSC-Regular.otf",
    "SourceHanSansSC-Regular.otf", "SourceHanSans-Regular.ttc", "SourceHanSansCN-Regular.otf",
    "wqy-microhei.ttc", "wqy-zenhei.ttc",
)
_FOLDERS = (
    "/usr/share/fonts/opentype/noto", "/usr/share/fonts/noto-cjk", "/usr/share/fonts/google-noto-cjk",
    "/usr/share/fonts/google-noto-sans-cjk-fonts", "/usr/share/fonts/noto",
    "/usr/share/fonts/opentype/source-han-sans",
    "/usr/share/fonts/adobe-source-han-sans", "/usr/share/fonts/source-han-sans",
    "/usr/share/fonts/truetype/wqy", "/usr/share/fonts/wenquanyi/wqy-microhei",
    "/usr/share/fonts/wenquanyi/wqy-zenhei", "/usr/share/fonts/wqy-microhei", "/usr/share/fonts/wqy-zenhei",
    "/Library/Fonts", "~/Library/Fonts", "~/.local/share/fonts", "~/.fonts",
)
KNOWN_PATHS: tuple[str, ...] = tuple(f"{folder}/{name}" for name in _NAMES for folder in _FOLDERS)
_CHINESE = (0x4E2D, 0x6587, 0x5FEB)  # 中 文 快: a font without them cannot print a waybill


@dataclass(frozen=True)
class CjkFont:
    """A font file with Chinese glyphs, the face to use in it (0 for a single font), its family."""

    path: Path
    index: int
    family: str


def font_for_config(config: Any) -> CjkFont:
    """The font a shop's documents use: its [documents] font (relative to kit.toml's folder),
    else the first known CJK font found; BadInput saying what to install or set when none."""
    setting = str(config.documents.get("font") or "").strip()
    if not setting:
        return find_font(None)
    path = Path(setting).expanduser()
    if not path.is_absolute() and config.source:
        path = Path(config.source).parent / path
    return find_font(str(path))


@cache
def find_font(setting: str | None) -> CjkFont:
    """The font at `setting`, or (None) the first known CJK font on this machine."""
    if setting:
        path = Path(setting)
        if not path.is_file():
            raise BadInput("documents.font_missing", path=str(path))
        return _open(path)
    for candidate in KNOWN_PATHS:
        path = Path(candidate).expanduser()
        if path.is_file():
            return _open(path)
    folders = dict.fromkeys(str(Path(p).parent) for p in KNOWN_PATHS)
    names = dict.fromkeys(Path(p).name for p in KNOWN_PATHS)
    raise BadInput("documents.no_font", names="、".join(names), folders="、".join(folders))


def _open(path: Path) -> CjkFont:
    """The Simplified Chinese face of a font file; BadInput when it cannot be read or has no Chinese."""
    from fontTools.ttLib import TTCollection, TTFont, TTLibError

    try:
        with path.open("rb") as file:
            collection = file.read(4) == b"ttcf"
        faces = TTCollection(str(path), lazy=True).fonts if collection else [TTFont(str(path), lazy=True)]
        names = [face["name"].getDebugName(1) or path.stem for face in faces]
        index = _simplified(names)
        cmap = faces[index].getBestCmap() or {}
    except (OSError, TTLibError, KeyError, AssertionError, ValueError) as exc:
        raise BadInput("documents.font_unreadable", path=str(path), detail=str(exc) or type(exc).__name__) \
            from exc
    if not all(code in cmap for code in _CHINESE):
        raise BadInput("documents.font_no_chinese", path=str(path), family=names[index])
    return CjkFont(path, index, names[index])


def _simplified(families: list[str]) -> int:
    """The face of a collection to use: proportional Simplified Chinese (… SC, … CN, WenQuanYi
    Micro Hei) before monospaced faces and other regions."""
    def rank(k: int) -> tuple[int, int]:
        name = families[k].lower()
        words = name.replace("-", " ").split()
        region = 0 if ("sc" in words or "cn" in words or "wenquanyi" in name or "wqy" in name) else 1
        return (region + (2 if "mono" in name else 0), k)

    return min(range(len(families)), key=rank)
