"""The companion pictures: SVG rendered once per size and device pixel ratio, then reused."""
from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from archpal_desktop.core import layout, paths

EMOTION_WORDS = {
    "default": "listening", "angry": "frustrated", "annoyed": "unimpressed", "dance": "delighted",
    "hello": "waving hello", "point": "pointing something out", "sad": "sad", "smile": "smiling",
    "success": "celebrating", "upset": "upset", "walk": "on the move",
}


def svg_path(emotion: str | None):
    name = emotion if emotion in layout.EMOTIONS else "default"
    return paths.resources_dir() / "companion" / f"{name}.svg"


@lru_cache(maxsize=None)
def _renderer(emotion: str) -> QSvgRenderer:
    return QSvgRenderer(str(svg_path(emotion)))


@lru_cache(maxsize=128)
def pixmap(emotion: str | None, size: int, dpr: float = 1.0) -> QPixmap:
    """A crisp picture: rendered at size * device pixel ratio (high-DPI screens)."""
    emotion = emotion if emotion in layout.EMOTIONS else "default"
    px = QPixmap(int(size * dpr), int(size * dpr))
    px.fill(Qt.GlobalColor.transparent)
    painter = QPainter(px)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    _renderer(emotion).render(painter, QRectF(0, 0, px.width(), px.height()))
    painter.end()
    px.setDevicePixelRatio(dpr)
    return px


def app_icon() -> QIcon:
    icon = QIcon(str(paths.resources_dir() / "icons" / "archpal.svg"))
    png = paths.resources_dir() / "icons" / "archpal-256.png"
    if png.exists():
        icon.addFile(str(png), QSize(256, 256))
    return icon


class CompanionView(QWidget):
    """The larger picture of the current reply's emotion, with its name for screen readers."""

    def __init__(self, parent: QWidget | None = None, size: int = 132):
        super().__init__(parent)
        self._size = size
        self._emotion = "default"
        self.picture = QLabel(self)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumSize(size, size)
        self.caption = QLabel(self)
        self.caption.setObjectName("muted")
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.addStretch(1)
        lay.addWidget(self.picture)
        lay.addWidget(self.caption)
        lay.addStretch(2)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self.setFixedWidth(size + 24)
        self.set_emotion("hello")

    @property
    def emotion(self) -> str:
        return self._emotion

    def set_emotion(self, emotion: str | None) -> None:
        emotion = emotion if emotion in layout.EMOTIONS else "default"
        self._emotion = emotion
        self.picture.setPixmap(pixmap(emotion, self._size, self.devicePixelRatioF()))
        words = EMOTION_WORDS.get(emotion, emotion)
        self.caption.setText(f"ArchPal is {words}")
        self.setAccessibleName("ArchPal companion")
        self.setAccessibleDescription(f"ArchPal is {words}")
        self.picture.setAccessibleName(f"ArchPal is {words}")
