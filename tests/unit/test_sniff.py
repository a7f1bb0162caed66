"""sniff_format judges bytes, never names: it must recognise what we accept and refuse, not
raise on, anything else (an upload route calls it on whatever a client sends)."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resumeflow.domain.documents import DocumentFormat, sniff_format

WORD_2003 = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<?mso-application progid="Word.Document"?>\n'
    b'<w:wordDocument xmlns:w="http://schemas.microsoft.com/office/word/2003/wordml">'
    b"<w:body><w:p><w:r><w:t>Ada</w:t></w:r></w:p></w:body></w:wordDocument>"
)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


DOCX_LIKE = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})


def _damage_central_directory(archive: bytes, offset: int, value: bytes) -> bytes:
    """Overwrite bytes of the first central-directory header (signature PK\\x01\\x02)."""
    start = archive.index(b"PK\x01\x02") + offset
    return archive[:start] + value + archive[start + len(value) :]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", DocumentFormat.PDF, id="pdf"),
        pytest.param(b"\r\n" * 400 + b"%PDF-1.4\n", DocumentFormat.PDF, id="pdf-after-junk"),
        pytest.param(PNG_MAGIC + b"\x00\x00\x00\rIHDR", DocumentFormat.PNG, id="png"),
        pytest.param(b"\xff\xd8\xff\xe0\x00\x10JFIF", DocumentFormat.JPEG, id="jpeg"),
        pytest.param(b"II*\x00\x08\x00\x00\x00", DocumentFormat.TIFF, id="tiff-le"),
        pytest.param(b"MM\x00*\x00\x00\x00\x08", DocumentFormat.TIFF, id="tiff-be"),
        pytest.param(DOCX_LIKE, DocumentFormat.DOCX, id="docx"),
        pytest.param(WORD_2003, DocumentFormat.WORD_XML, id="word-2003-xml"),
        pytest.param(b"\xef\xbb\xbf\n  " + WORD_2003, DocumentFormat.WORD_XML, id="word-xml-bom"),
        pytest.param(b"Ada Lovelace\nMathematician\n", DocumentFormat.TEXT, id="ascii"),
        pytest.param("Zoë Ångström, 履歴書".encode(), DocumentFormat.TEXT, id="utf8"),
        pytest.param(b"\xef\xbb\xbfAda\r\n", DocumentFormat.TEXT, id="utf8-bom"),
        pytest.param(b"a" * 1024 + b"%PDF-1.7", DocumentFormat.TEXT, id="pdf-marker-past-1k"),
    ],
)
def test_recognises(data: bytes, expected: DocumentFormat) -> None:
    assert sniff_format(data) is expected


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b" \r\n\t ", id="blank"),
        pytest.param(b"\x00\x01\x02binary", id="binary"),
        pytest.param("café".encode("latin-1"), id="latin-1"),
        pytest.param("résumé".encode("utf-16"), id="utf-16"),
        pytest.param(_zip({"xl/workbook.xml": b"<workbook/>"}), id="xlsx"),
        pytest.param(b"PK\x03\x04 not really a zip", id="truncated-zip"),
        pytest.param(b'<?xml version="1.0"?><html><body/></html>', id="other-xml"),
        pytest.param(b"Ada Lovelace\n" * 100 + b"\x00", id="nul-past-1k"),
    ],
)
def test_refuses(data: bytes) -> None:
    assert sniff_format(data) is None


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            PNG_MAGIC + b"\x00\x00\x00\x13tEXtComment\x00%PDF-1.7 ", DocumentFormat.PNG, id="png"
        ),
        pytest.param(
            _zip({"a.pdf": b"%PDF-1.4 stored", "word/document.xml": b"<x/>"}, zipfile.ZIP_STORED),
            DocumentFormat.DOCX,
            id="docx-with-stored-pdf",
        ),
        pytest.param(
            _zip({"a.pdf": b"%PDF-1.4 stored"}, zipfile.ZIP_STORED), None, id="zip-with-stored-pdf"
        ),
    ],
)
def test_magic_numbers_win_over_a_pdf_marker_in_the_head(
    data: bytes, expected: DocumentFormat | None
) -> None:
    assert b"%PDF-" in data[:1024]
    assert sniff_format(data) is expected


@pytest.mark.parametrize(
    "damaged",
    [
        # "version needed to extract" 20.0: zipfile raises NotImplementedError
        pytest.param(_damage_central_directory(DOCX_LIKE, 6, struct.pack("<H", 200)), id="version"),
        # UTF-8 flag set on a name that is not UTF-8: zipfile raises UnicodeDecodeError
        pytest.param(
            _damage_central_directory(
                _damage_central_directory(DOCX_LIKE, 8, struct.pack("<H", 0x800)), 46, b"\xff"
            ),
            id="name-encoding",
        ),
    ],
)
def test_damaged_zip_is_refused_not_raised(damaged: bytes) -> None:
    with pytest.raises((NotImplementedError, UnicodeDecodeError)):
        zipfile.ZipFile(io.BytesIO(damaged))  # the damage is of the kind that once escaped
    assert sniff_format(damaged) is None


@given(st.binary(max_size=2048))
def test_never_raises(data: bytes) -> None:
    assert sniff_format(data) in {None, *DocumentFormat}


@given(st.lists(st.tuples(st.integers(0, len(DOCX_LIKE) - 1), st.integers(0, 255)), max_size=8))
def test_never_raises_on_a_damaged_zip(damage: list[tuple[int, int]]) -> None:
    data = bytearray(DOCX_LIKE)
    for position, value in damage:
        data[position] = value
    data[:4] = b"PK\x03\x04"
    assert sniff_format(bytes(data)) in {None, DocumentFormat.DOCX}
