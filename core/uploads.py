"""Uploaded files: what is accepted, under which name it is stored, and how it is served.

A file is judged by its content, never by its name or the type the browser claims: a PDF starts with
`%PDF-` at byte 0 and parses with pypdf, and it carries nothing a viewer would run or unpack
(JavaScript, launch actions, embedded files). Accepted files are stored under a generated name, and
served only by an access-checked view, always as a download in a sandbox, so that even a file that
slipped through can never run in the portal's origin.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.utils.text import slugify
from django.utils.translation import gettext
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, PdfObject

PDF_SIGNATURE = b"%PDF-"
PDF_CONTENT_TYPE = "application/pdf"

# Names that make a viewer run code, start a program or unpack another file, as keys (/JS, /EF, the
# catalogue's /Names /JavaScript and /EmbeddedFiles trees) or as values (/S /JavaScript, /S /Launch,
# /Type /EmbeddedFile). pypdf decodes #xx escapes in names, so "/J#53" is caught as "/JS".
_ACTIVE_NAMES = {
    "/JS": "javascript",
    "/JavaScript": "javascript",
    "/Launch": "launch",
    "/EmbeddedFiles": "embedded_file",
    "/EmbeddedFile": "embedded_file",
    "/EF": "embedded_file",
}


def _megabytes(size: int) -> str:
    megabytes = size / (1024 * 1024)
    return f"{megabytes:.0f} MB" if megabytes == int(megabytes) else f"{megabytes:.1f} MB"


def _refusal(code: str) -> str:
    messages = {
        "not_pdf": gettext("Only PDF files can be attached: this file does not start as a PDF."),
        "unreadable_pdf": gettext("The file could not be read as a PDF; save or export it as a PDF again."),
        "encrypted_pdf": gettext("Encrypted or password-protected PDF files cannot be attached."),
        "javascript": gettext("PDF files with JavaScript cannot be attached."),
        "launch": gettext("PDF files with actions that start other programs cannot be attached."),
        "embedded_file": gettext("PDF files with embedded files cannot be attached."),
    }
    return messages[code]


def _objects(root: PdfObject) -> Iterator[DictionaryObject | ArrayObject | PdfObject]:
    """Every object reachable from `root`, each indirect object once (iterative: no recursion limit)."""
    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            item = item.get_object()
        yield item
        if isinstance(item, DictionaryObject):
            stack.extend(item.values())
        elif isinstance(item, ArrayObject):
            stack.extend(item)


def _active_content(reader: PdfReader) -> str | None:
    """The code of the first active content found in the document (None if there is none)."""
    for item in _objects(reader.trailer):
        if isinstance(item, DictionaryObject):
            for key, value in item.items():
                found = _ACTIVE_NAMES.get(str(key)) or (
                    _ACTIVE_NAMES.get(str(value)) if isinstance(value, NameObject) else None
                )
                if found:
                    return found
    return None


def pdf_refusal(stream: IO[bytes]) -> str | None:
    """Why `stream` is not an acceptable PDF, as a refusal code (None when it is one)."""
    stream.seek(0)
    if stream.read(len(PDF_SIGNATURE)) != PDF_SIGNATURE:
        return "not_pdf"
    stream.seek(0)
    try:
        reader = PdfReader(stream)
        if reader.is_encrypted:
            return "encrypted_pdf"
        if len(reader.pages) == 0:
            return "unreadable_pdf"
        return _active_content(reader)
    # A damaged or hostile file can make the parser fail in many ways; each means "not a PDF we take".
    except Exception:
        return "unreadable_pdf"


def check_pdf(upload: Any, *, max_bytes: int, field: str = "file") -> None:
    """Refuse `upload` on `field` unless it is a non-empty PDF of at most `max_bytes` with no active
    content (see `pdf_refusal`). The file's position is left where it was."""
    size = getattr(upload, "size", None) or 0
    if size == 0:
        raise ValidationError({field: gettext("The file is empty.")}, code="empty_file")
    if size > max_bytes:
        raise ValidationError(
            {field: gettext("The file is larger than the limit of %(max)s.") % {"max": _megabytes(max_bytes)}},
            code="file_too_large",
        )
    position = upload.tell() if hasattr(upload, "tell") else 0
    try:
        code = pdf_refusal(upload)
    finally:
        upload.seek(position)
    if code:
        raise ValidationError({field: _refusal(code)}, code=code)


def generated_pdf_name(folder: str) -> str:
    """A new stored name under `folder`: nothing of the uploaded name reaches the file system."""
    return f"{folder.rstrip('/')}/{uuid.uuid4().hex}.pdf"


def download_filename(title: str, default: str = "document") -> str:
    """A safe file name for a download: ASCII letters, digits and dashes, ending in .pdf."""
    stem = title[:-4] if title.lower().endswith(".pdf") else title
    return f"{slugify(stem)[:100] or default}.pdf"


def pdf_download(file: IO[bytes], *, title: str) -> FileResponse:
    """Serve a stored PDF as a download only: never shown inline, never sniffed, and sandboxed (no
    script, no same-origin access) should a browser render it anyway. Call it after the access check."""
    response = FileResponse(file, as_attachment=True, filename=download_filename(title), content_type=PDF_CONTENT_TYPE)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
