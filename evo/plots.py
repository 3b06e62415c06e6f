"""Small PNG charts drawn with Pillow (no plotting library needed)."""
from __future__ import annotations

from evo.errors import EvoError


def layer_bar_chart(layers: list[dict], title: str, path: str) -> None:
    """Horizontal bars: one per layer, length = instructions, labelled with op and share."""
    from PIL import Image, ImageDraw

    row, left, width = 18, 260, 520
    height = 40 + row * len(layers) + 20
    img = Image.new("RGB", (left + width + 140, height), "white")
    d = ImageDraw.Draw(img)
    d.text((10, 10), title, fill="black")
    peak = max((layer["instructions"] for layer in layers), default=1) or 1
    for k, layer in enumerate(layers):
        y = 40 + k * row
        d.text((10, y + 2), f"{layer['index']:>3} {layer['op'][:28]}", fill="black")
        w = int(width * layer["instructions"] / peak)
        d.rectangle([left, y + 2, left + max(w, 1), y + row - 3], fill=(70, 120, 200))
        d.text((left + w + 6, y + 2), f"{layer['instructions']:,} ({layer.get('share', 0) * 100:.1f}%)", fill="black")
    try:
        img.save(path)
    except OSError as e:
        raise EvoError(f"cannot write {path}: {e.strerror}", "check the path") from None
