"""The text of a PDF the platform drew (fpdf2: Type0 fonts with a ToUnicode map, one `Tj` per
run of text), for tests to read what a document says. Not a general PDF reader: enough for
invoices and credit notes, whose text is otherwise glyph ids in compressed streams."""

from __future__ import annotations

import re
import zlib

_OBJECT = re.compile(rb"(\d+) 0 obj\s*(.*?)endobj", re.S)
_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
_FONT_NAME = re.compile(rb"/(F\d+)\s+(\d+) 0 R")
_TO_UNICODE = re.compile(rb"/ToUnicode\s+(\d+) 0 R")
_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_BFRANGE = re.compile(rb"beginbfrange(.*?)endbfrange", re.S)
_HEX = re.compile(rb"<([0-9A-Fa-f]+)>")
# A font selection, or a literal or hex string shown by Tj.
_TOKEN = re.compile(rb"/(F\d+)\s+[\d.]+\s+Tf|\(((?:\\.|[^\\)])*)\)\s*Tj|<([0-9A-Fa-f]*)>\s*Tj", re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def pdf_text(content: bytes) -> str:
    """The PDF's text, one line per text run, in drawing order."""
    objects = {int(number): body for number, body in _OBJECT.findall(content)}
    cmaps = {number: _cmap(_stream(objects[int(ref)])) for number, body in objects.items()
             if (found := _TO_UNICODE.search(body)) and (ref := found.group(1)) and int(ref) in objects}
    fonts = {name.decode(): cmaps.get(int(ref), {}) for body in objects.values()
             for name, ref in _FONT_NAME.findall(body.split(b"stream", 1)[0])}
    lines: list[str] = []
    for body in objects.values():
        data = _stream(body)
        if b"Tj" not in data:
            continue
        cmap: dict[int, str] = {}
        for match in _TOKEN.finditer(data):
            if match.group(1) is not None:
                cmap = fonts.get(match.group(1).decode(), {})
                continue
            raw = _unescape(match.group(2)) if match.group(2) is not None else bytes.fromhex(match.group(3).decode())
            codes = [int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw) - 1, 2)]
            lines.append("".join(cmap.get(code, "?") for code in codes))
    return "\n".join(lines)


def _stream(body: bytes) -> bytes:
    found = _STREAM.search(body)
    if found is None:
        return b""
    data = found.group(1)
    # The stream's bytes are its /Length: compressed data may itself end in "\r", which the
    # pattern's "\r?\n" before `endstream` would take away.
    length = re.search(rb"/Length (\d+)", body.split(b"stream", 1)[0])
    if length is not None:
        start = found.start(1)
        data = body[start:start + int(length.group(1))]
    if b"/FlateDecode" in body.split(b"stream", 1)[0]:
        return zlib.decompress(data)
    return data


def _cmap(data: bytes) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for block in _BFCHAR.findall(data):
        values = _HEX.findall(block)
        for source, target in zip(values[::2], values[1::2], strict=False):
            mapping[int(source, 16)] = bytes.fromhex(target.decode()).decode("utf-16-be")
    for block in _BFRANGE.findall(data):
        for line in block.strip().splitlines():
            values = _HEX.findall(line)
            if len(values) == 3:
                start, end, first = (int(value, 16) for value in values)
                for offset in range(end - start + 1):
                    mapping[start + offset] = chr(first + offset)
    return mapping


def _unescape(raw: bytes) -> bytes:
    out = bytearray()
    index = 0
    while index < len(raw):
        byte = raw[index:index + 1]
        if byte != b"\\":
            out += byte
            index += 1
            continue
        following = raw[index + 1:index + 2]
        octal = re.match(rb"[0-7]{1,3}", raw[index + 1:index + 4])
        if octal:
            out.append(int(octal.group(0), 8) & 0xFF)
            index += 1 + len(octal.group(0))
        else:
            out += _ESCAPES.get(following, following)
            index += 2
    return bytes(out)
