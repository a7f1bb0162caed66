"""LocalTextExtractor against the real libraries and a real Tesseract: the shared resumes, and
PDFs, DOCX, Word XML and images built here (no binary fixtures are committed)."""

from __future__ import annotations

import asyncio
import io
import json
import re
from pathlib import Path

import docx
import pypdf
import pypdfium2 as pdfium
import pytest
from docx.document import Document as DocxDocument
from docx.oxml import parse_xml
from docx.shared import Inches
from PIL import Image

from resumeflow.adapters.local.blobs import InMemoryBlobStore
from resumeflow.adapters.local.extraction import (
    EXTRACTOR_NAME,
    LocalTextExtractor,
    extract_document,
)
from resumeflow.adapters.local.text_layer import MIN_PAGE_CHARS
from resumeflow.domain.documents import DocumentFormat, ExtractedText, TextSource, sniff_format
from resumeflow.domain.errors import StageError
from resumeflow.domain.ports import BlobNotFound, DocumentRef, TextExtractor
from tests.conftest import EXTERNAL, needs_shared, shared_resumes

pytestmark = pytest.mark.integration

ADA = ("Ada Lovelace", "Analytical Engine programmer since 1843", "Skills: mathematics, poetry")
GRACE = ("Grace Hopper", "Compiler pioneer and naval officer", "Skills: COBOL, debugging")
EXPECTED_FORMAT = {
    ".pdf": DocumentFormat.PDF,
    ".docx": DocumentFormat.DOCX,
    ".doc": DocumentFormat.WORD_XML,
    ".png": DocumentFormat.PNG,
}


@pytest.fixture(autouse=True)
def _single_threaded_tesseract(monkeypatch: pytest.MonkeyPatch) -> None:
    # Debian's Tesseract uses OpenMP; on two cores its threads spin and OCR of one page takes
    # ~4 s instead of ~0.7 s. Deployments should set this too (it is an environment setting).
    monkeypatch.setenv("OMP_THREAD_LIMIT", "1")


# --- documents built in the test -------------------------------------------------------------


def _text_pdf(*lines: str, size: tuple[int, int] = (612, 792)) -> bytes:
    """A one-page PDF with a Helvetica text layer, written by hand (offsets computed)."""
    escaped = [line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for line in lines]
    content = "\n".join(
        ["BT", "/F1 18 Tf", "24 TL", f"72 {size[1] - 72} Td"]
        + [f"({line}) Tj T*" for line in escaped]
        + ["ET"]
    ).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] " % size
        + b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _render(pdf: bytes, page: int = 0, dpi: int = 150) -> Image.Image:
    document = pdfium.PdfDocument(pdf)
    try:
        bitmap = document[page].render(scale=dpi / 72)
        image: Image.Image = bitmap.to_pil().convert("RGB")
        return image
    finally:
        document.close()


def _image_pdf(image: Image.Image, dpi: int = 150) -> bytes:
    """An image-only page: what a scanner produces."""
    buffer = io.BytesIO()
    image.save(buffer, "PDF", resolution=dpi)
    return buffer.getvalue()


def _merge(*pdfs: bytes) -> bytes:
    writer = pypdf.PdfWriter()
    for pdf in pdfs:
        writer.append(io.BytesIO(pdf))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _encrypt(pdf: bytes, user_password: str, algorithm: str = "AES-256") -> bytes:
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(pdf))
    writer.encrypt(user_password, owner_password="owner", algorithm=algorithm)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _image_bytes(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def _mixed_pdf() -> bytes:
    """Page 1 has a text layer; page 2 is a scan of another page."""
    return _merge(_text_pdf(*ADA), _image_pdf(_render(_text_pdf(*GRACE))))


def _words(text: str) -> set[str]:
    return {word.lower() for word in re.findall(r"[A-Za-z]{4,}", text)}


def _stage_error(data: bytes, fmt: DocumentFormat, ocr_language: str = "eng") -> StageError:
    with pytest.raises(StageError) as caught:
        extract_document(data, fmt, ocr_language=ocr_language)
    assert caught.value.retryable is False
    return caught.value


# --- the shared resumes ----------------------------------------------------------------------


def _shared_params() -> list[object]:
    paths = shared_resumes()
    if not paths:
        return [pytest.param(None, id="shared-absent", marks=needs_shared)]
    return [pytest.param(path, id=path.name) for path in paths]


def _extract_shared(name: str) -> ExtractedText:
    assert EXTERNAL is not None
    data = (EXTERNAL / "resumes" / name).read_bytes()
    fmt = sniff_format(data)
    assert fmt is not None
    return extract_document(data, fmt)


@pytest.mark.parametrize("path", _shared_params())
def test_every_shared_resume_yields_text(path: Path) -> None:
    data = path.read_bytes()
    fmt = sniff_format(data)
    assert fmt is EXPECTED_FORMAT[path.suffix]

    result = extract_document(data, fmt)

    assert result.format is fmt
    assert result.extractor == EXTRACTOR_NAME
    assert [page.number for page in result.pages] == list(range(1, len(result.pages) + 1))
    assert sum(char.isalnum() for char in result.text) >= 400
    expected_source = TextSource.OCR if fmt.is_image else TextSource.TEXT_LAYER
    assert {page.source for page in result.pages} == {expected_source}  # born-digital: no OCR
    if fmt is DocumentFormat.PDF:
        assert len(result.pages) == len(pypdf.PdfReader(io.BytesIO(data)).pages)


@needs_shared
def test_png_ocr_reads_what_the_pdf_of_the_same_resume_says() -> None:
    name = "resume-parser-api__senior-backend-developer"
    scanned, born_digital = _extract_shared(f"{name}.png"), _extract_shared(f"{name}.pdf")

    assert scanned.ocr_pages == 1
    pdf_words = _words(born_digital.text)
    assert len(pdf_words & _words(scanned.text)) >= 0.9 * len(pdf_words)
    # The PDF letter-spaces the name ("J O H N  D O E"); OCR reads it as words.
    assert scanned.text.splitlines()[0] == "JOHN DOE"
    assert "".join(born_digital.text.split()).startswith("JOHNDOE")


@needs_shared
@pytest.mark.parametrize(
    ("word_file", "name"),
    [
        pytest.param("soupboss__01-Accountant.docx", "Ebony Moore", id="docx"),
        pytest.param("hackmyresume__jane-q-fullstacker.doc", "Jane Q. Fullstacker", id="word-xml"),
    ],
)
def test_word_file_and_its_pdf_agree(word_file: str, name: str) -> None:
    word = _extract_shared(word_file)
    pdf = _extract_shared(word_file.rsplit(".", 1)[0] + ".pdf")

    assert word.text.splitlines()[0] == name
    assert pdf.text.splitlines()[0] == name
    word_words = _words(word.text)
    assert len(word_words & _words(pdf.text)) >= 0.95 * len(word_words)


@needs_shared
def test_names_match_the_ground_truth() -> None:
    assert EXTERNAL is not None
    truth = EXTERNAL / "resumes" / "ground_truth"
    jane = json.loads((truth / "hackmyresume__jane-q-fullstacker.resume.json").read_text())
    rendercv = re.search(
        r"^\s+name:\s*(.+)$",
        (truth / "rendercv__John_Doe_ClassicTheme_CV.yaml").read_text(),
        re.MULTILINE,
    )
    assert rendercv is not None

    for file, name in [
        ("hackmyresume__jane-q-fullstacker.doc", jane["basics"]["name"]),
        ("hackmyresume__jane-q-fullstacker.pdf", jane["basics"]["name"]),
        ("rendercv__John_Doe_ClassicTheme_CV.pdf", rendercv.group(1).strip()),
    ]:
        assert _extract_shared(file).text.splitlines()[0] == name


@needs_shared
def test_word_xml_keeps_line_breaks_inside_text_runs() -> None:
    lines = _extract_shared("hackmyresume__jane-q-fullstacker.doc").text.splitlines()
    # HackMyResume writes <w:t>jdoe@onecoolstartup.io<w:br/></w:t>.
    assert lines[1:4] == ["jdoe@onecoolstartup.io", "1-650-999-7777", "http://janef.me/blog"]


@needs_shared
def test_shared_pdf_with_a_scanned_page() -> None:
    assert EXTERNAL is not None
    resumes = EXTERNAL / "resumes"
    text_page = (resumes / "resume-matcher__barry_allen_fe.pdf").read_bytes()
    scanned = _render((resumes / "resume-parser-api__senior-backend-developer.pdf").read_bytes())

    result = extract_document(_merge(text_page, _image_pdf(scanned)), DocumentFormat.PDF)

    assert [(p.number, p.source) for p in result.pages] == [
        (1, TextSource.TEXT_LAYER),
        (2, TextSource.OCR),
    ]
    assert result.pages[0].text.startswith("Barry Allen")
    assert "SENIOR BACKEND DEVELOPER" in result.pages[1].text


# --- PDFs built here -------------------------------------------------------------------------


def test_ocr_is_decided_per_page() -> None:
    result = extract_document(_mixed_pdf(), DocumentFormat.PDF)

    assert [(p.number, p.source) for p in result.pages] == [
        (1, TextSource.TEXT_LAYER),
        (2, TextSource.OCR),
    ]
    assert result.pages[0].text == "\n".join(ADA)
    assert result.pages[1].text == "\n".join(GRACE)
    assert result.ocr_pages == 1


def test_a_short_text_layer_over_a_scan_gives_way_to_ocr() -> None:
    footer = "Page 2"  # fewer than MIN_PAGE_CHARS letters: the page is OCR'd
    assert sum(char.isalnum() for char in footer) < MIN_PAGE_CHARS
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(_image_pdf(_render(_text_pdf(*GRACE)))))
    writer.pages[0].merge_page(pypdf.PdfReader(io.BytesIO(_text_pdf("", "", "", footer))).pages[0])
    buffer = io.BytesIO()
    writer.write(buffer)

    page = extract_document(buffer.getvalue(), DocumentFormat.PDF).pages[0]

    assert page.source is TextSource.OCR
    assert "Grace Hopper" in page.text
    assert footer in page.text


def test_a_short_text_layer_is_kept_when_ocr_finds_no_more() -> None:
    result = extract_document(_text_pdf("Page 2"), DocumentFormat.PDF)

    assert [(p.source, p.text) for p in result.pages] == [(TextSource.TEXT_LAYER, "Page 2")]


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-256"])
def test_a_pdf_that_opens_with_an_empty_password_is_read(algorithm: str) -> None:
    encrypted = _encrypt(_mixed_pdf(), "", algorithm)
    assert pypdf.PdfReader(io.BytesIO(encrypted)).is_encrypted

    result = extract_document(encrypted, DocumentFormat.PDF)

    assert [p.source for p in result.pages] == [TextSource.TEXT_LAYER, TextSource.OCR]
    assert "Grace Hopper" in result.pages[1].text  # pdfium opened it too


def test_a_pdf_that_needs_a_password_is_refused() -> None:
    error = _stage_error(_encrypt(_text_pdf(*ADA), "secret"), DocumentFormat.PDF)
    assert error.reason == "password_protected"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_text_pdf(*ADA)[:300], id="truncated"),
        pytest.param(_mixed_pdf()[:-40], id="truncated-tail"),
        pytest.param(b"%PDF-1.7\n" + bytes(range(256)) * 8, id="garbage"),
        pytest.param(b"%PDF-1.4\n%%EOF\n", id="header-only"),
    ],
)
def test_a_damaged_pdf_is_unreadable(data: bytes) -> None:
    assert _stage_error(data, DocumentFormat.PDF).reason == "unreadable"


def test_a_blank_pdf_has_no_text() -> None:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(612, 792)
    buffer = io.BytesIO()
    writer.write(buffer)
    assert _stage_error(buffer.getvalue(), DocumentFormat.PDF).reason == "no_text"


def test_a_huge_page_is_rendered_within_the_pixel_budget() -> None:
    # 200 x 200 inches at 300 dpi is 3.6 gigapixels: uncapped, pdfium raises MemoryError.
    result = extract_document(_text_pdf("Ada Lovelace", size=(14_400, 14_400)), DocumentFormat.PDF)
    # The short layer sends the page to OCR, which reads too little at ~32 dpi: the layer stays.
    assert [(p.source, p.text) for p in result.pages] == [(TextSource.TEXT_LAYER, "Ada Lovelace")]


# --- DOCX, Word 2003 XML and plain text ------------------------------------------------------

# A text box as Word writes it: the content twice, in mc:Choice and in the VML mc:Fallback.
_SKILLS_WITH_A_TEXT_BOX = (
    '<w:p xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    ' xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
    ' xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"'
    ' xmlns:v="urn:schemas-microsoft-com:vml">'
    "<w:r><w:t>Skills</w:t></w:r><w:r><mc:AlternateContent>"
    '<mc:Choice Requires="wps"><w:drawing><wps:txbx><w:txbxContent><w:p><w:r><w:t>Boxed</w:t>'
    "</w:r></w:p></w:txbxContent></wps:txbx></w:drawing></mc:Choice><mc:Fallback><w:pict>"
    "<v:textbox><w:txbxContent><w:p><w:r><w:t>Boxed</w:t></w:r></w:p></w:txbxContent>"
    "</v:textbox></w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p>"
)


def _docx_bytes(document: DocxDocument) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_reads_header_paragraphs_tables_and_text_boxes_in_order() -> None:
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "Ada Lovelace"
    document.add_paragraph("Experience")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "1843", "Analytical Engine notes"
    table.cell(1, 0).merge(table.cell(1, 1)).text = "Merged cell"
    dated = document.add_paragraph("1833")
    dated.paragraph_format.tab_stops.add_tab_stop(Inches(2))
    run = dated.add_run()
    run.add_tab()
    run.add_text("Met Babbage")
    run.add_break()
    run.add_text("London")
    document.add_paragraph()  # an empty paragraph is a blank line
    body = document.element.body
    body.sectPr.addprevious(parse_xml(_SKILLS_WITH_A_TEXT_BOX))

    result = extract_document(_docx_bytes(document), DocumentFormat.DOCX)

    assert result.text.splitlines() == [
        "Ada Lovelace",
        "Experience",
        "1843",
        "Analytical Engine notes",
        "Merged cell",
        "1833\tMet Babbage",
        "London",
        "",
        "Boxed",
        "Skills",
    ]
    assert [(p.number, p.source) for p in result.pages] == [(1, TextSource.TEXT_LAYER)]


def test_an_empty_docx_has_no_text() -> None:
    data = _docx_bytes(docx.Document())
    assert _stage_error(data, DocumentFormat.DOCX).reason == "no_text"


def test_a_damaged_docx_is_unreadable() -> None:
    data = _docx_bytes(docx.Document())
    assert _stage_error(data[: len(data) // 2], DocumentFormat.DOCX).reason == "unreadable"


_W2003 = 'xmlns:w="http://schemas.microsoft.com/office/word/2003/wordml"'


def test_word_2003_xml_paragraphs_tables_tabs_and_breaks() -> None:
    data = (
        f'<?xml version="1.0"?><w:wordDocument {_W2003}><w:body>'
        "<w:p><w:pPr><w:tabs><w:tab w:val='left' w:pos='720'/></w:tabs></w:pPr>"
        "<w:r><w:t>Ada</w:t></w:r><w:r><w:t> Lovelace</w:t></w:r></w:p>"
        "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>1843</w:t><w:tab/><w:t>Notes</w:t></w:r></w:p>"
        "</w:tc></w:tr></w:tbl>"
        "<w:p><w:r><w:t>a<w:br/>b</w:t><w:br/><w:t>c</w:t></w:r></w:p>"
        "<w:p><w:r><w:instrText>HYPERLINK x</w:instrText></w:r></w:p>"
        "</w:body></w:wordDocument>"
    ).encode()
    assert sniff_format(data) is DocumentFormat.WORD_XML

    result = extract_document(data, DocumentFormat.WORD_XML)

    assert result.text == "Ada Lovelace\n1843\tNotes\na\nb\nc"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(f"<w:wordDocument {_W2003}><w:body><w:p>".encode(), id="truncated"),
        pytest.param(
            f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
            f'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><w:wordDocument {_W2003}><w:body><w:p>'
            "<w:r><w:t>&b;</w:t></w:r></w:p></w:body></w:wordDocument>".encode(),
            id="entity-expansion",
        ),
    ],
)
def test_bad_word_xml_is_unreadable(data: bytes) -> None:
    assert _stage_error(data, DocumentFormat.WORD_XML).reason == "unreadable"


def test_plain_text_is_tidied() -> None:
    data = "\ufeffAda\tLovelace\r\nJ O H N  D O E\x00\r\nLeo\t\r \xa0Leopard\n\n\n\nEnd".encode()
    result = extract_document(data, DocumentFormat.TEXT)
    assert result.text == "Ada\tLovelace\nJ O H N  D O E\nLeo Leopard\n\nEnd"


def test_plain_text_errors() -> None:
    assert _stage_error(b" \n\t", DocumentFormat.TEXT).reason == "no_text"
    assert _stage_error("café".encode("latin-1"), DocumentFormat.TEXT).reason == "unreadable"


# --- images ----------------------------------------------------------------------------------


def test_jpeg_is_turned_upright_by_its_exif_orientation() -> None:
    sideways = _render(_text_pdf(*GRACE)).rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    data = _image_bytes(sideways, "JPEG", exif=exif, quality=90)
    assert sniff_format(data) is DocumentFormat.JPEG

    result = extract_document(data, DocumentFormat.JPEG)

    assert result.text == "\n".join(GRACE)


def test_every_tiff_frame_is_a_page() -> None:
    first, second = _render(_text_pdf(*ADA)), _render(_text_pdf(*GRACE))
    data = _image_bytes(first, "TIFF", save_all=True, append_images=[second])
    assert sniff_format(data) is DocumentFormat.TIFF

    result = extract_document(data, DocumentFormat.TIFF)

    assert [(p.number, p.source) for p in result.pages] == [
        (1, TextSource.OCR),
        (2, TextSource.OCR),
    ]
    assert [p.text for p in result.pages] == ["\n".join(ADA), "\n".join(GRACE)]


def test_transparent_png_is_flattened_on_white() -> None:
    # Black text on a fully transparent black background: without flattening it is all black.
    grey = _render(_text_pdf(*GRACE)).convert("L")
    transparent = Image.new("RGBA", grey.size, (0, 0, 0, 0))
    transparent.putalpha(grey.point(lambda value: 255 - value))
    data = _image_bytes(transparent, "PNG")

    assert extract_document(data, DocumentFormat.PNG).text == "\n".join(GRACE)


def test_image_errors() -> None:
    blank = _image_bytes(Image.new("L", (600, 800), 255), "PNG")
    assert _stage_error(blank, DocumentFormat.PNG).reason == "no_text"
    page = _image_bytes(_render(_text_pdf(*ADA)), "PNG")
    assert _stage_error(page[: len(page) // 2], DocumentFormat.PNG).reason == "unreadable"


def test_missing_tesseract_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing named tesseract in it
    page = _image_bytes(_render(_text_pdf(*ADA)), "PNG")

    error = _stage_error(page, DocumentFormat.PNG)

    assert error.reason == "ocr_unavailable"
    assert "apt-get install tesseract-ocr" in error.detail


def test_missing_language_data_says_which_package() -> None:
    page = _image_bytes(_render(_text_pdf(*ADA)), "PNG")
    error = _stage_error(page, DocumentFormat.PNG, ocr_language="xyz")
    assert error.reason == "ocr_unavailable"
    assert "apt-get install tesseract-ocr-xyz" in error.detail


# --- the port --------------------------------------------------------------------------------


async def _stored(blobs: InMemoryBlobStore, data: bytes, fmt: DocumentFormat) -> DocumentRef:
    ref = await blobs.put(data, content_type=fmt.media_type)
    return DocumentRef(blob_key=ref.key, format=fmt, size_bytes=ref.size_bytes, sha256=ref.sha256)


async def test_extractor_reads_the_blob_and_extracts_it() -> None:
    blobs = InMemoryBlobStore()
    extractor: TextExtractor = LocalTextExtractor(blobs)
    pdf = _mixed_pdf()
    document = await _stored(blobs, pdf, DocumentFormat.PDF)

    result = await extractor.extract(document, request_token="app-1-v1")

    assert extractor.name == "local"
    assert result == extract_document(pdf, DocumentFormat.PDF)


async def test_extraction_runs_off_the_event_loop_and_in_parallel() -> None:
    blobs = InMemoryBlobStore()
    extractor = LocalTextExtractor(blobs, ocr_dpi=200)
    scans = [_image_pdf(_render(_text_pdf(name, *GRACE[1:]))) for name in ("Ann", "Bob", "Cy")]
    documents = [await _stored(blobs, scan, DocumentFormat.PDF) for scan in scans]
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        results = await asyncio.gather(
            *(extractor.extract(document, request_token="t") for document in documents)
        )
    finally:
        ticker.cancel()

    assert [r.pages[0].text.splitlines()[0] for r in results] == ["Ann", "Bob", "Cy"]
    assert ticks >= 10  # OCR takes ~1 s; a blocked loop would not have ticked


async def test_a_missing_blob_is_not_hidden() -> None:
    extractor = LocalTextExtractor(InMemoryBlobStore())
    document = DocumentRef(
        blob_key="sha256/00/" + "0" * 64, format=DocumentFormat.PDF, size_bytes=1, sha256="0" * 64
    )
    with pytest.raises(BlobNotFound):
        await extractor.extract(document, request_token="t")


@pytest.mark.parametrize("dpi", [0, 71, 1201])
def test_an_unusable_dpi_is_refused_at_construction(dpi: int) -> None:
    with pytest.raises(ValueError, match="ocr_dpi"):
        LocalTextExtractor(InMemoryBlobStore(), ocr_dpi=dpi)
