"""Exports in a real browser: the header's 导出简报 opens the dialog on the overview of 2023-08, a
pack of every part is built with progress and downloads as one zip whose Word text carries the
排查 figure the page shows, whose PDF embeds its fonts and whose workbook opens; closing the dialog
drops the pack; the data page downloads one notice board per enterprise of the chosen unit."""

from __future__ import annotations

import io
import re
import subprocess
import time
import zipfile

import openpyxl
import pytest
from docx import Document
from playwright.sync_api import expect
from pypdf import PdfReader

from loaders import load_paths
from tests.browser.conftest import screenshot, wait_ready
from tests.conftest import SAMPLE_CAMPAIGN

BUILD_TIMEOUT_MS = 120_000


def _open_dialog(page, server: str, query: str) -> None:
    page.goto(f"{server}/?{query}")
    wait_ready(page)
    page.locator(".hb-export-open button").click()
    expect(page.locator(".hb-export-dialog .hb-export-build button")).to_be_visible()
    page.wait_for_timeout(400)  # the modal fades in


def _pdffonts(pdf: bytes, tmp_path) -> list[str]:
    path = tmp_path / "briefing.pdf"
    path.write_bytes(pdf)
    output = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return output.splitlines()[2:]  # after the header and its rule


def test_export_a_pack_from_the_overview(server, page, tmp_path):
    _open_dialog(page, server, "page=overview&period_end=2023-08")
    found = page.locator(".hb-kpi-found .hb-kpi-value").inner_text()
    assert re.fullmatch(r"[\d,]+", found)
    dialog = page.locator(".hb-export-dialog")
    expect(dialog.locator(".hb-export-period select")).to_have_value("2023-08")
    expect(dialog.locator(".hb-export-issue input")).to_have_value("4")
    expect(dialog.locator(".hb-export-filters")).to_have_text("当前页面没有筛选条件。")
    parts = dialog.locator(".hb-export-parts input[type=checkbox]")
    expect(parts).to_have_count(5)
    for index in range(5):  # Word, PDF, Excel, slides and images
        parts.nth(index).check()
    screenshot(page, "export-dialog-zh")

    started = time.monotonic()
    dialog.locator(".hb-export-build button").click()
    expect(dialog.locator(".hb-export-step")).to_contain_text("步")  # progress while it builds
    expect(dialog.locator(".hb-export-build button")).to_be_disabled()
    expect(dialog.locator(".hb-export-progress").first).to_be_visible()
    screenshot(page, "export-dialog-building-zh")
    download_button = dialog.locator(".hb-export-download button")
    expect(download_button).to_be_visible(timeout=BUILD_TIMEOUT_MS)
    with page.expect_download() as info:
        download_button.click()
    download = info.value
    elapsed = time.monotonic() - started
    print(f"build and download: {elapsed:.1f} s")
    assert download.suggested_filename == "重大事故隐患专项排查整治简报_第4期_2023-08_全市.zip"
    screenshot(page, "export-dialog-done-zh")

    archive = zipfile.ZipFile(download.path())
    members = {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()}
    assert {name.rsplit(".", 1)[1] for name in members} == {"docx", "pdf", "xlsx", "pptx", "png"}
    for name in members:  # the dialog lists every file of the pack
        expect(dialog.locator(".hb-export-files")).to_contain_text(name)

    def of_kind(suffix: str) -> bytes:
        return next(content for name, content in members.items() if name.endswith(suffix))

    document = Document(io.BytesIO(of_kind(".docx")))
    text = "\n".join(paragraph.text for paragraph in document.paragraphs)
    assert f"累计排查重大事故隐患{found.replace(',', '')}条" in text
    fonts = _pdffonts(of_kind(".pdf"), tmp_path)
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts  # emb column
    openpyxl.load_workbook(io.BytesIO(of_kind(".xlsx")))

    # Closing the dialog drops the pack: opened again, it offers a new build, not the old download.
    page.locator(".hb-export-modal #pnx_dialog_close").click()
    expect(dialog).to_be_hidden()
    page.locator(".hb-export-open button").click()
    expect(dialog.locator(".hb-export-build button")).to_be_enabled()
    expect(dialog.locator(".hb-export-download")).to_have_count(0)
    assert page.console_log.errors == []


def test_the_dialog_in_english(server, page):
    _open_dialog(page, server, "page=hazards&lang=en&units=%5B%22%E4%BC%9A%E6%98%8C%E5%8E%BF%22%5D")
    dialog = page.locator(".hb-export-dialog")
    expect(page.locator(".hb-export-open button")).to_have_text("Export briefing")
    expect(dialog.locator(".hb-export-title")).to_have_text("Export a briefing pack")
    expect(dialog.locator(".hb-export-scope select")).to_have_value("会昌县")
    expect(dialog.locator(".hb-export-filters")).to_contain_text("Filters: Units 会昌县")
    expect(dialog.locator(".hb-export-parts")).to_contain_text("Meeting slides")
    expect(dialog.locator(".hb-export-build button")).to_have_text("Build the pack")
    screenshot(page, "export-dialog-en")
    assert page.console_log.errors == []


@pytest.fixture(scope="module")
def registry():
    return load_paths([SAMPLE_CAMPAIGN]).registry


def test_notice_boards_download_from_the_data_page(server, page, registry):
    unit = "章贡区"
    page.goto(f"{server}/?page=data")
    wait_ready(page)
    page.locator(".hb-boards-unit select").select_option(unit)
    button = page.locator(".hb-boards-download button")
    expect(button).to_contain_text("下载责任公示牌（PDF）")
    with page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename.endswith(".pdf") and unit in download.suggested_filename
    pages = len(PdfReader(download.path()).pages)
    assert pages == int((registry["unit"] == unit).sum()) > 0
    screenshot(page, "data-boards")
    assert page.console_log.errors == []
