"""Write examples/resume.pdf: the fictional Maya Okafor's resume, as a PDF with a text layer.

Standard library only, so the example can be rebuilt anywhere: one page, Helvetica, one text
object per line. Run: python scripts/make_example_resume.py
"""

from __future__ import annotations

from pathlib import Path

LINES: list[tuple[int, str]] = [
    (18, "Maya Okafor"),
    (10, "Portland, OR  |  maya.okafor@example.com  |  +1 503 555 0142"),
    (10, "github.com/maya-okafor-example  |  linkedin.com/in/maya-okafor-example"),
    (12, "Summary"),
    (10, "Backend engineer who builds reliable data pipelines and APIs in Python."),
    (10, "Enjoys event-driven systems, observability and making slow things fast."),
    (12, "Skills"),
    (10, "Python, FastAPI, PostgreSQL, Redis, Celery, Docker, Kubernetes, AWS, SQL, Git"),
    (12, "Experience"),
    (10, "Senior Backend Engineer, Riverbend Logistics    Mar 2021 - Present"),
    (10, "Moved order processing to an event log on Redis Streams; p99 latency fell 80%."),
    (10, "Backend Engineer, Lumen Health Analytics    Jun 2017 - Feb 2021"),
    (10, "Built ETL jobs in Python and SQL feeding PostgreSQL; ran them on Kubernetes."),
    (12, "Education"),
    (10, "Oregon State University    B.S. in Computer Science    2013 - 2017"),
]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def build_pdf() -> bytes:
    y = 760
    content = ["BT"]
    for size, text in LINES:
        y -= size + (14 if size >= 12 else 6)
        font = "/F2" if size >= 12 else "/F1"
        content.append(f"{font} {size} Tf 1 0 0 1 60 {y} Tm ({_escape(text)}) Tj")
    content.append("ET")
    stream = "\n".join(content).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Title (Maya Okafor - Resume) /Producer (resumeflow example generator) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 7 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


if __name__ == "__main__":
    target = Path(__file__).resolve().parents[1] / "examples" / "resume.pdf"
    target.write_bytes(build_pdf())
    print(f"wrote {target}")
