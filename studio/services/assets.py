"""The asset library: images marketing uploads once and reuses in offers and layouts.

An upload is never trusted by its name or the browser's content type: the type is sniffed
from the first bytes, raster images are opened with Pillow (which reads the real
dimensions and refuses truncated or bomb-sized files), and SVG, which can carry script,
is rebuilt from an allowlist of drawing elements and attributes. Assets are addressed by
the sha256 of their stored bytes, so the URL never changes meaning and may be cached for
a year; uploading the same image twice finds the first copy.
"""

from __future__ import annotations

import hashlib
import io
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Final

from PIL import Image, UnidentifiedImageError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from studio import audit
from studio.errors import FieldError, ValidationFailed
from studio.models import Asset
from studio.services.pagination import Page, clamp

MAX_BYTES: Final = 5 * 1024 * 1024
MAX_PIXELS: Final = 40_000_000
MAX_SIDE: Final = 10_000

# Sniffed type -> (content type, file extension, Pillow format name or None for SVG).
KINDS: Final = {
    "png": ("image/png", "png", "PNG"),
    "jpeg": ("image/jpeg", "jpg", "JPEG"),
    "gif": ("image/gif", "gif", "GIF"),
    "webp": ("image/webp", "webp", "WEBP"),
    "svg": ("image/svg+xml", "svg", None),
}
EXTENSIONS: Final = {ext: content_type for content_type, ext, _ in KINDS.values()}

SVG_NS: Final = "http://www.w3.org/2000/svg"
XLINK_NS: Final = "http://www.w3.org/1999/xlink"
SVG_ELEMENTS: Final = frozenset(
    {
        "svg",
        "g",
        "defs",
        "title",
        "desc",
        "path",
        "rect",
        "circle",
        "ellipse",
        "line",
        "polyline",
        "polygon",
        "text",
        "tspan",
        "linearGradient",
        "radialGradient",
        "stop",
        "clipPath",
        "mask",
        "pattern",
        "use",
        "symbol",
    }
)
SVG_ATTRIBUTES: Final = frozenset(
    {
        "width",
        "height",
        "viewBox",
        "preserveAspectRatio",
        "x",
        "y",
        "x1",
        "y1",
        "x2",
        "y2",
        "cx",
        "cy",
        "r",
        "rx",
        "ry",
        "d",
        "points",
        "transform",
        "fill",
        "fill-opacity",
        "fill-rule",
        "stroke",
        "stroke-width",
        "stroke-opacity",
        "stroke-linecap",
        "stroke-linejoin",
        "stroke-dasharray",
        "opacity",
        "font-family",
        "font-size",
        "font-weight",
        "font-style",
        "text-anchor",
        "dominant-baseline",
        "letter-spacing",
        "offset",
        "stop-color",
        "stop-opacity",
        "gradientUnits",
        "gradientTransform",
        "patternUnits",
        "clip-path",
        "clipPathUnits",
        "mask",
        "id",
        "role",
        "aria-label",
        "version",
        "dx",
        "dy",
        "fx",
        "fy",
        "spreadMethod",
    }
)
_LOCAL_REF: Final = re.compile(r"^#[\w.-]+$")
_PAINT_URL: Final = re.compile(r"url\(\s*(?!#)", re.I)
_DIMENSION: Final = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(px)?\s*$")


@dataclass(frozen=True)
class Stored:
    """The outcome of an upload: the asset, and whether it was already in the library."""

    asset: Asset
    existing: bool


def url_for_asset(asset: Asset) -> str:
    """The stable, content-addressed path of an asset; it never points at other bytes."""
    return f"/assets/{asset.sha256}.{KINDS[_kind_of(asset.content_type)][1]}"


def _kind_of(content_type: str) -> str:
    return next(kind for kind, (ct, _, _) in KINDS.items() if ct == content_type)


def sniff(data: bytes) -> str | None:
    """The image kind the bytes really are, from their signature, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"<svg", b"<?xml", b"<!DOCTYPE svg", b"<!--")) and b"<svg" in head:
        return "svg"
    return None


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed([FieldError("file", message)])


def _raster_size(data: bytes, kind: str) -> tuple[int, int]:
    """Open the image with Pillow to read its real size and make sure it is whole."""
    expected = KINDS[kind][2]
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != expected:
                raise _refuse("The file's content does not match a supported image type.")
            width, height = image.size
            if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
                raise _refuse(
                    f"The image is {width}×{height} pixels; keep it to at most "
                    f"{MAX_SIDE:,} pixels a side and {MAX_PIXELS // 1_000_000} "
                    "megapixels."
                )
            image.verify()
    except ValidationFailed:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise _refuse("The image is damaged or incomplete; export it again and retry.") from None
    return width, height


def _svg_length(value: str | None) -> float | None:
    match = _DIMENSION.match(value or "")
    return float(match.group(1)) if match else None


def sanitize_svg(data: bytes) -> tuple[bytes, int, int]:
    """Rebuild an SVG from the drawing allowlist; return the bytes and its size in pixels.

    Anything that could run or fetch is dropped: scripts, foreignObject, animation, event
    handlers, external references (only same-document ``#id`` links survive) and CSS
    ``url()`` values that leave the document. A DOCTYPE is refused outright, which rules
    out entity expansion.
    """
    text = data.decode("utf-8", errors="strict") if data else ""
    if re.search(r"<!DOCTYPE|<!ENTITY", text, re.I):
        raise _refuse("This SVG declares a DOCTYPE or entities; save it as plain SVG.")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as bad:
        raise _refuse(f"This SVG is not well-formed XML ({bad}).") from None
    if _local(root.tag) != "svg":
        raise _refuse("The file is not an SVG image.")
    clean = _clean_svg_element(root)
    assert clean is not None
    width = _svg_length(root.get("width"))
    height = _svg_length(root.get("height"))
    if (width is None or height is None) and root.get("viewBox"):
        parts = root.get("viewBox", "").replace(",", " ").split()
        if len(parts) == 4:
            try:
                width, height = float(parts[2]), float(parts[3])
            except ValueError:
                width = height = None
    if not width or not height:
        raise _refuse("This SVG has no size: give it width and height or a viewBox.")
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    cleaned = ET.tostring(clean, encoding="utf-8", xml_declaration=False)
    return cleaned, round(width), round(height)


def _local(tag: str) -> str:
    if not tag.startswith("{"):
        return tag
    namespace, _, name = tag[1:].partition("}")
    return name if namespace == SVG_NS else f"{{{namespace}}}{name}"


def _clean_svg_element(element: ET.Element) -> ET.Element | None:
    name = _local(element.tag)
    if name not in SVG_ELEMENTS:
        return None
    clean = ET.Element(f"{{{SVG_NS}}}{name}")
    for attribute, value in element.attrib.items():
        if attribute in (f"{{{XLINK_NS}}}href", "href"):
            if _LOCAL_REF.match(value.strip()):
                clean.set(
                    f"{{{XLINK_NS}}}href" if attribute.startswith("{") else "href", value.strip()
                )
            continue
        if attribute not in SVG_ATTRIBUTES or _PAINT_URL.search(value):
            continue
        clean.set(attribute, value)
    clean.text = element.text
    for child in element:
        kept = _clean_svg_element(child)
        if kept is not None:
            kept.tail = child.tail
            clean.append(kept)
    return clean


def _safe_filename(filename: str) -> str:
    name = PurePosixPath(filename.replace("\\", "/")).name
    name = re.sub(r"[^\w. -]", "_", name).strip(" .")
    return (name or "image")[:120]


def store(session: Session, *, filename: str, data: bytes, actor_id: int | None) -> Stored:
    """Check an upload and add it to the library, or raise ValidationFailed on `file`."""
    if not data:
        raise _refuse("Choose an image file to upload.")
    if len(data) > MAX_BYTES:
        raise _refuse(
            f"The file is {len(data) / 1_048_576:.1f} MB; images may be at most "
            f"{MAX_BYTES // 1_048_576} MB."
        )
    kind = sniff(data)
    if kind is None:
        raise _refuse(
            "This is not an image the studio can use: upload PNG, JPEG, GIF, WebP or SVG."
        )
    if kind == "svg":
        try:
            data, width, height = sanitize_svg(data)
        except UnicodeDecodeError:
            raise _refuse("This SVG is not UTF-8 text.") from None
    else:
        width, height = _raster_size(data, kind)
    sha256 = hashlib.sha256(data).hexdigest()
    existing = session.scalar(select(Asset).where(Asset.sha256 == sha256))
    if existing is not None:
        return Stored(existing, True)
    content_type, extension, _ = KINDS[kind]
    name = _safe_filename(filename)
    if PurePosixPath(name).suffix.lower().lstrip(".") not in (extension, "jpeg"):
        name = f"{PurePosixPath(name).stem or 'image'}.{extension}"
    asset = Asset(
        sha256=sha256,
        filename=name,
        content_type=content_type,
        width=width,
        height=height,
        size=len(data),
        data=data,
        uploaded_by=actor_id,
    )
    session.add(asset)
    session.flush()
    audit.record(
        session,
        "asset.upload",
        actor_id=actor_id,
        object_type="asset",
        object_id=sha256,
        filename=name,
        size=len(data),
    )
    return Stored(asset, False)


def get(session: Session, sha256: str, extension: str) -> Asset | None:
    """The asset at a stable URL; the extension must match its type."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256) or extension not in EXTENSIONS:
        return None
    asset = session.scalar(select(Asset).where(Asset.sha256 == sha256))
    if asset is None or asset.content_type != EXTENSIONS[extension]:
        return None
    return asset


def listing(session: Session, *, query: str = "", page: int = 1, per_page: int = 24) -> Page[Asset]:
    """A page of the library, newest first, searched by file name."""
    stmt = select(Asset)
    query = query.strip()[:100]
    if query:
        # `%` and `_` are searched for as typed (`banner_v2`), not as wildcards.
        stmt = stmt.where(func.lower(Asset.filename).contains(query.lower(), autoescape=True))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = clamp(page, total=total, per_page=per_page)
    items = list(
        session.scalars(
            stmt.options(defer(Asset.data))
            .order_by(Asset.created_at.desc(), Asset.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    return Page(items=items, page=page, per_page=per_page, total=total)
