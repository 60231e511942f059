"""What a delimited text file is, decided from its first bytes: encoding, delimiter,
number format and header.

:func:`sniff` is the one implementation of these decisions: :func:`~analytics.io.read_table`
calls it on the whole file and the command line on a file's first bytes (it streams the
rest), so both read a file the same way.

The sample is the first :data:`SAMPLE_BYTES` of the text (cut at a line end); at most
200 records of it are parsed per candidate delimiter.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from dataclasses import dataclass

from analytics.errors import FileFormatError

__all__ = ["DELIMITER_NAMES", "SAMPLE_BYTES", "Dialect", "sniff"]

SAMPLE_BYTES = 64 * 1024
"""Bytes of text the dialect is sniffed from (the whole file is parsed later)."""

DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
"""The delimiters that are sniffed, and their names in messages."""

_SNIFF_RECORDS = 200

# Magic numbers of formats people upload by mistake: (prefix, message).
_MAGIC = (
    (b"\x1f\x8b", "This is a gzip-compressed file, not a CSV. Decompress it and upload the CSV."),
    (b"BZh", None),  # checked with a stricter test below (text could start with "BZh")
    (b"\xfd7zXZ\x00", "This is an xz-compressed file, not a CSV. Decompress it first."),
    (b"7z\xbc\xaf\x27\x1c", "This is a 7-Zip archive, not a CSV. Extract the CSV first."),
    (b"\x28\xb5\x2f\xfd", "This is a zstd-compressed file, not a CSV. Decompress it first."),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "This looks like an old Excel workbook (.xls); save it as CSV and upload that.",
    ),
    (b"\x89PNG\r\n\x1a\n", "This is a PNG image, not a table. Upload a CSV file."),
    (b"\xff\xd8\xff", "This is a JPEG image, not a table. Upload a CSV file."),
    (b"GIF87a", "This is a GIF image, not a table. Upload a CSV file."),
    (b"GIF89a", "This is a GIF image, not a table. Upload a CSV file."),
    (b"%PDF-", "This is a PDF document, not a table. Export the table as CSV."),
    (b"PAR1", "This is a Parquet file; this reader accepts CSV or other delimited text."),
)

# Byte-order marks, longest first (the UTF-32 LE mark starts with the UTF-16 LE one).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Number tokens as the sample writes them: a decimal comma (optionally "." thousands),
# a decimal point, and "1.234" which could be either.
_RE_DECIMAL_COMMA_TOKEN = re.compile(r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+),\d+")
_RE_DECIMAL_POINT_TOKEN = re.compile(r"[+-]?\d*\.\d+(?:[eE][+-]?\d+)?")
_RE_AMBIGUOUS_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+")

# Control characters that never occur in real delimited text (tab, newlines,
# form feed and vertical tab excluded); a sample full of them is binary.
_RE_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Dialect:
    """How a delimited text file is written, as :func:`sniff` found it.

    Attributes
    ----------
    encoding : str
        Codec name as :class:`~analytics.io.ReadReport` gives it (``"utf-8"``,
        ``"utf-8-sig"`` for UTF-8 with a BOM, ``"utf-16-le"``, ``"cp1252"``, ...).
    delimiter : str
        Field separator: ``","``, ``";"``, ``"\\t"`` or ``"|"`` (or the one forced).
    delimiter_name : str
        The delimiter in words (``"semicolon"``; ``"none (one column)"``).
    decimal : str
        Decimal mark of the numbers: ``"."`` or ``","``.
    thousands : str or None
        Thousands separator seen in the sample's decimal-comma numbers (``"."``), if any.
    header : tuple of str, shape (n_fields,)
        The header's fields as written.
    columns : tuple of str, shape (n_fields,)
        The column names read_table gives them: stripped, blanks named ``Unnamed: i``,
        repeats de-duplicated as ``x``, ``x.1``.
    line_offset : int
        Blank lines above the header (skipped; line numbers in messages count them).
    bom : bool
        Whether the bytes start with a byte-order mark.
    warnings : tuple of str
        Plain sentences about the encoding and the header (repeated or blank names).
    """

    encoding: str
    delimiter: str
    delimiter_name: str
    decimal: str
    thousands: str | None
    header: tuple[str, ...]
    columns: tuple[str, ...]
    line_offset: int = 0
    bom: bool = False
    warnings: tuple[str, ...] = ()

    @property
    def codec(self) -> str:
        """The codec that decodes the file from its first byte, dropping any BOM.

        Use it to stream the file (``pandas.read_csv(..., encoding=dialect.codec)``).
        """
        if self.bom and self.encoding.startswith(("utf-16", "utf-32")):
            return self.encoding[:6]  # "utf-16" / "utf-32" read and drop the BOM
        return self.encoding


def sniff(
    data: bytes,
    filename: str | None = None,
    *,
    complete: bool = True,
    delimiter: str | None = None,
) -> Dialect:
    """Find the encoding, delimiter, number format and header of delimited text.

    These are the decisions :func:`~analytics.io.read_table` makes before it parses
    a file; it calls this same code.

    Parameters
    ----------
    data : bytes
        The file's bytes, or its first bytes (at least ``4 * SAMPLE_BYTES`` for the
        same answer as the whole file, UTF-32 included).
    filename : str, optional
        Used only for messages (an ``.xlsx`` name gives the Excel hint).
    complete : bool, default True
        False when ``data`` is only the start of a file: its last, perhaps partial,
        line and character are then left out of the sample.
    delimiter : str, optional
        Use this delimiter instead of sniffing one.

    Returns
    -------
    Dialect

    Raises
    ------
    FileFormatError
        With ``code`` ``"empty_file"``, ``"binary"`` or ``"unreadable"``.
    """
    if not data:
        raise FileFormatError("The file is empty (0 bytes).", code="empty_file")
    check_magic(data, filename)
    buf, encoding, notes = decode(data, complete=complete)
    dialect, _ = sniff_utf8(
        buf, encoding, notes, bom=has_bom(data), complete=complete, delimiter=delimiter
    )
    return dialect


def sniff_utf8(
    buf: bytes,
    encoding: str,
    notes: list[str],
    *,
    bom: bool = False,
    complete: bool = True,
    delimiter: str | None = None,
) -> tuple[Dialect, bytes]:
    """Sniff already-decoded UTF-8 bytes (``encoding`` is what they were decoded from).

    Returns the dialect and ``buf`` without a DOS end-of-file marker and without the
    blank lines above the header (the bytes to parse; ``buf`` itself when unchanged).
    """
    if buf.endswith(b"\x1a"):  # DOS end-of-file marker
        buf = buf.rstrip(b"\x1a")
    if not re.search(rb"\S", buf):
        raise FileFormatError(
            "The file is empty: it contains only blank lines." if buf else "The file is empty.",
            code="empty_file",
        )
    # Whitespace-only lines above the header would be taken as the header.
    lead = re.match(rb"(?:[ \t]*(?:\r\n|\n|\r))+", buf)
    line_offset = 0
    if lead:
        line_offset = len(re.findall(rb"\r\n|\n|\r", lead.group()))
        buf = buf[lead.end() :]
    sample, complete = sample_text(buf, complete)
    controls = len(_RE_CONTROL.findall(sample))
    if "\x00" in sample or controls > 0.01 * len(sample):
        raise binary_error()
    if delimiter is None:
        delim, records = _sniff_delimiter(sample, complete)
    else:
        delim, records = delimiter, _records(sample, delimiter, _SNIFF_RECORDS, complete)
    decimal, thousands = _sniff_decimal(records, delim)
    header = records[0] if records else []
    names, name_notes = _column_names(header)
    dialect = Dialect(
        encoding=encoding,
        delimiter=delim,
        delimiter_name=(
            DELIMITER_NAMES.get(delim, repr(delim)) if len(header) > 1 else "none (one column)"
        ),
        decimal=decimal,
        thousands=thousands,
        header=tuple(header),
        columns=tuple(names),
        line_offset=line_offset,
        bom=bom,
        warnings=tuple(notes) + tuple(name_notes),
    )
    return dialect, buf


# --------------------------------------------------------------------------- decoding


def check_magic(raw: bytes, filename: str | None) -> None:
    """Refuse archives, workbooks, images and documents with a useful message."""
    head = raw[:8]
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        name = (filename or "").lower()
        if name.endswith((".xlsx", ".xlsm", ".xls")) or b"xl/" in raw[:4096]:
            msg = "This looks like an Excel workbook; save it as CSV (File > Save As > CSV) and upload that."
        elif name.endswith(".ods") or b"opendocument" in raw[:4096]:
            msg = "This looks like an OpenDocument spreadsheet; save it as CSV and upload that."
        else:
            msg = "This is a ZIP archive, not a CSV. Extract the CSV from it and upload that."
        raise FileFormatError(msg, code="binary")
    for magic, msg in _MAGIC:
        if msg is not None and head.startswith(magic):
            raise FileFormatError(msg, code="binary")
    if re.match(rb"BZh[1-9]1AY&SY", raw[:10]):
        raise FileFormatError(
            "This is a bzip2-compressed file, not a CSV. Decompress it first.", code="binary"
        )


def has_bom(raw: bytes) -> bool:
    """Whether ``raw`` starts with a UTF-8, UTF-16 or UTF-32 byte-order mark."""
    return raw.startswith(tuple(bom for bom, _ in _BOMS))


def decode(raw: bytes, *, complete: bool = True) -> tuple[bytes, str, list[str]]:
    """Return (UTF-8 bytes without BOM, encoding name, notes).

    UTF-8 input is returned as-is, without a copy, and only its first 64 KB
    are validated here: pandas' parser decodes strictly, and a later invalid
    byte raises ``UnicodeDecodeError``, upon which the reader falls back to
    :func:`decode_legacy`. This saves a full decoding pass. With ``complete``
    False a character cut off at the end of ``raw`` is left out.
    """
    for bom, name in _BOMS:
        if raw.startswith(bom):
            if name == "utf-8-sig":
                return raw[len(bom) :], name, []
            try:
                text = _decode_text(raw[len(bom) :], name, complete)
            except UnicodeDecodeError as exc:
                raise FileFormatError(
                    f"The file starts with a {name.upper()} marker but is not valid {name.upper()} "
                    "text. Save it again as UTF-8 CSV.",
                    code="unreadable",
                ) from exc
            if "\x00" in text:
                raise binary_error()
            return text.encode("utf-8"), name, []
    if b"\x00" in raw:
        guess = _guess_bomless_utf16(raw)
        if guess is not None:
            try:
                text = _decode_text(raw, guess, complete)
            except UnicodeDecodeError:
                text = None
            if text is not None and "\x00" not in text:
                return text.encode("utf-8"), guess, []
        raise binary_error()
    try:
        codecs.getincrementaldecoder("utf-8")().decode(raw[:SAMPLE_BYTES], final=False)
    except UnicodeDecodeError:
        return decode_legacy(raw)
    return raw, "utf-8", []


def _decode_text(raw: bytes, codec: str, complete: bool) -> str:
    if complete:
        return raw.decode(codec)
    return codecs.getincrementaldecoder(codec)().decode(raw, final=False)


#: Single-byte encodings read as Windows-1252 / Latin-1 (Western European) when guessed.
_WESTERN = frozenset(
    {
        "ascii",
        "cp1252",
        "latin_1",
        "iso8859_1",
        "iso8859_15",
        "cp1250",
        "cp850",
        "cp437",
        "mac_roman",
    }
)
#: How an encoding charset-normalizer finds is named to an analyst.
_ENCODING_NAMES = {
    "cp932": "Shift-JIS (Japanese)",
    "shift_jis": "Shift-JIS (Japanese)",
    "shift_jis_2004": "Shift-JIS (Japanese)",
    "euc_jp": "EUC-JP (Japanese)",
    "iso2022_jp": "ISO-2022-JP (Japanese)",
    "gb18030": "GB18030 (Simplified Chinese)",
    "gbk": "GBK (Simplified Chinese)",
    "gb2312": "GB2312 (Simplified Chinese)",
    "big5": "Big5 (Traditional Chinese)",
    "big5hkscs": "Big5 (Traditional Chinese)",
    "cp949": "EUC-KR (Korean)",
    "euc_kr": "EUC-KR (Korean)",
    "cp1251": "Windows-1251 (Cyrillic)",
    "koi8_r": "KOI8-R (Cyrillic)",
    "cp1253": "Windows-1253 (Greek)",
    "cp1254": "Windows-1254 (Turkish)",
    "cp1255": "Windows-1255 (Hebrew)",
    "cp1256": "Windows-1256 (Arabic)",
    "cp874": "Windows-874 (Thai)",
}


def _detect_non_western(raw: bytes) -> tuple[str, str] | None:
    """A non-Western encoding charset-normalizer is sure of, and its name in words.

    Only a guess outside the Western single-byte family that decodes the whole file
    strictly is taken: Western files keep the Windows-1252 reading they always had.
    """
    from charset_normalizer import from_bytes

    best = from_bytes(raw[:SAMPLE_BYTES]).best()
    if best is None or best.encoding in _WESTERN or best.encoding.startswith("utf"):
        return None
    try:
        raw.decode(best.encoding)
    except (UnicodeDecodeError, LookupError):
        return None
    language = best.language if best.language and best.language != "Unknown" else ""
    label = _ENCODING_NAMES.get(
        best.encoding, best.encoding + (f" ({language})" if language else "")
    )
    return best.encoding, label


def decode_legacy(raw: bytes) -> tuple[bytes, str, list[str]]:
    """Text that is not UTF-8: a non-Western encoding charset-normalizer finds (Shift-JIS,
    GB18030, Windows-1251, ...), else Windows-1252, or Latin-1 for the 5 bytes cp1252
    leaves undefined."""
    found = _detect_non_western(raw)
    if found is not None:
        codec, label = found
        warning = (
            f"The file is not UTF-8; it was read as {label}. Check that names and other "
            "text look right; if not, save the file again as UTF-8 CSV."
        )
        return raw.decode(codec).encode("utf-8"), codec, [warning]
    try:
        text, name = raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        text, name = raw.decode("latin-1"), "latin-1"
    warning = (
        f"The file is not UTF-8; it was read as {'Windows-1252' if name == 'cp1252' else 'Latin-1'} "
        "(Western European). Check that accented letters and symbols such as £ look right."
    )
    return text.encode("utf-8"), name, [warning]


def _guess_bomless_utf16(raw: bytes) -> str | None:
    """UTF-16 without a BOM: ASCII text has a zero in every other byte."""
    sample = raw[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def binary_error() -> FileFormatError:
    """The error for bytes that are not text."""
    return FileFormatError(
        "This file contains binary data (it is not text), so it cannot be read as a table. "
        "Upload a CSV or other delimited text file.",
        code="binary",
    )


# --------------------------------------------------------------------------- dialect


def sample_text(buf: bytes, complete: bool = True) -> tuple[str, bool]:
    """First ~64 KB of the text, cut at a line end; and whether it is the whole file."""
    if complete and len(buf) <= SAMPLE_BYTES:
        return buf.decode("utf-8"), True
    head = buf[:SAMPLE_BYTES]
    cut = max(head.rfind(b"\n"), head.rfind(b"\r"))
    if cut > 0:
        head = head[: cut + 1]
    return head.decode("utf-8", errors="ignore"), False


def _records(sample: str, delim: str, limit: int, complete: bool) -> list[list[str]]:
    """Non-blank records of the sample, parsed with ``delim`` (at most ``limit``)."""
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delim, quotechar='"')
    out: list[list[str]] = []
    try:
        for rec in reader:
            # The header is the first non-empty line even if its names are blank.
            if rec and (not out or any(f.strip() for f in rec)):
                out.append(rec)
                if len(out) > limit:
                    break
    except csv.Error:
        pass
    if not complete and len(out) > 1 and len(out) <= limit:
        out.pop()  # the sample may end inside the last record
    return out[:limit]


def _sniff_delimiter(sample: str, complete: bool) -> tuple[str, list[list[str]]]:
    """Pick the delimiter whose field counts agree best with the header's.

    Returns the delimiter and the sample parsed with it (header first).
    """
    scored = []
    parsed: dict[str, list[list[str]]] = {}
    for delim in DELIMITER_NAMES:
        recs = _records(sample, delim, _SNIFF_RECORDS, complete)
        parsed[delim] = recs
        if not recs or len(recs[0]) < 2:
            continue
        n = len(recs[0])
        body = recs[1:]
        consistency = sum(len(r) == n for r in body) / len(body) if body else 1.0
        scored.append((consistency, n, delim))
    if not scored:
        return ",", parsed[","]  # one column: any delimiter reads it the same
    best = max(s[0] for s in scored)
    tied = [s for s in scored if s[0] == best]
    if len(tied) > 1:
        # Equal consistency (e.g. "a;b,c"): let csv.Sniffer break the tie.
        try:
            guess = csv.Sniffer().sniff(sample[:8192], delimiters="".join(DELIMITER_NAMES))
            for s in tied:
                if s[2] == guess.delimiter:
                    return s[2], parsed[s[2]]
        except csv.Error:
            pass
    delim = max(tied, key=lambda s: s[1])[2]
    return delim, parsed[delim]


def _sniff_decimal(records: list[list[str]], delim: str) -> tuple[str, str | None]:
    """Return (decimal mark, thousands separator) as the sample writes numbers.

    A decimal comma is only possible when commas do not separate fields.
    """
    if delim == ",":
        return ".", None
    comma = point = grouped = 0
    for rec in records[1:]:
        for value in rec:
            v = value.strip()
            if _RE_DECIMAL_COMMA_TOKEN.fullmatch(v):
                comma += 1
                grouped += "." in v
            elif _RE_DECIMAL_POINT_TOKEN.fullmatch(v) and not _RE_AMBIGUOUS_THOUSANDS.fullmatch(v):
                point += 1
    if comma > point:
        return ",", ("." if grouped else None)
    return ".", None


def _column_names(header: list[str]) -> tuple[list[str], list[str]]:
    """Strip names, name blanks ``Unnamed: i`` and de-duplicate as ``x``, ``x.1``."""
    notes = []
    names = []
    for i, raw in enumerate(header):
        name = raw.strip()
        names.append(name if name else f"Unnamed: {i}")
    unnamed = [n for n, raw in zip(names, header, strict=True) if not raw.strip()]
    counts = Counter(names)
    used: set[str] = set()
    out = []
    seen: Counter[str] = Counter()
    for name in names:
        new = name
        if counts[name] > 1 and seen[name]:
            k = seen[name]
            while f"{name}.{k}" in used or f"{name}.{k}" in counts:
                k += 1
            new = f"{name}.{k}"
            seen[name] = k
        seen[name] += 1
        used.add(new)
        out.append(new)
    for name, count in counts.items():
        if count > 1:
            kept = [o for o, n in zip(out, names, strict=True) if n == name]
            notes.append(
                f"The column name {name!r} appears {count} times; all were kept, as "
                + ", ".join(repr(k) for k in kept)
                + "."
            )
    if unnamed:
        notes.append(
            f"{len(unnamed)} column(s) have no name in the header; they were named "
            + ", ".join(repr(u) for u in unnamed[:5])
            + ("..." if len(unnamed) > 5 else "")
            + "."
        )
    return out, notes
