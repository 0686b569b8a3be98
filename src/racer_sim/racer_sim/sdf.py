"""A small builder for SDFormat documents: nested elements from Python calls, written deterministically.

Worlds and models are generated (and committed) from racer's configuration, so the text must be a
pure function of it: numbers are printed with a fixed precision and elements in the order given.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

SDF_VERSION = "1.9"  # Harmonic reads newer versions, Debian's libsdformat (the validator here) up to 1.9


def number(value: float) -> str:
    text = f"{value:.9g}"
    return "0" if text == "-0" else text


def text_of(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, tuple | list):
        return " ".join(text_of(v) for v in value)
    return str(value)


def el(tag: str, *children: ET.Element | None, text=None, **attributes) -> ET.Element:
    """`<tag attributes>text children</tag>`; None children are skipped (optional elements)."""
    element = ET.Element(tag, {k.rstrip("_"): text_of(v) for k, v in attributes.items()})
    if text is not None:
        element.text = text_of(text)
    element.extend(c for c in children if c is not None)
    return element


def values(**items) -> list[ET.Element]:
    """Leaf elements `<name>value</name>`, one per keyword, in order."""
    return [el(name, text=value) for name, value in items.items()]


def pose(x: float = 0.0, y: float = 0.0, z: float = 0.0, roll: float = 0.0, pitch: float = 0.0,
         yaw: float = 0.0, relative_to: str | None = None) -> ET.Element:
    attributes = {"relative_to": relative_to} if relative_to else {}
    return el("pose", text=(x, y, z, roll, pitch, yaw), **attributes)


def plugin(filename: str, name: str, params: Iterable[ET.Element] = ()) -> ET.Element:
    return el("plugin", *params, filename=filename, name=name)


def document(*children: ET.Element) -> str:
    root = el("sdf", *children, version=SDF_VERSION)
    ET.indent(root, space="  ")
    return '<?xml version="1.0"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
