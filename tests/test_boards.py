"""``hazardboard boards``: print-ready 附件1 notice boards (one enterprise per A4 page) from the
registry, read from workbooks as units send them or from the store."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pandas as pd
import pypdf
import pytest
from PIL import Image
from tests.xlsx_builders import board, new_workbook, to_bytes, write_board

from briefing import fonts as fonts_module
from briefing.boards import BOARD_TITLE, TEMPLATE_ROWS, BoardsError, board_units, boards_pdf, resolve_unit
from briefing.fonts import FontMissingError, register_fonts
from dashboards.cli import main
from loaders import load_paths
from loaders.reference import REGISTRY_FIELDS
from sample_data.writers import write_registry

MARKUP_NAME = "赣州<b>&华</b>矿业有限公司"
LONG_NAME = "赣州市龙南市某某某某新型环保建筑材料科技股份有限公司第二分公司（原龙南县某某水泥制品厂）"

# 龙南县 (an alias of 龙南市) sends boards one below the other, as printed from the template.
LONGNAN_BOARDS = [
    board(enterprise="龙南市乙化工有限公司", responsible_unit="龙南市应急管理局", head="李四", head_phone="13907970002",
          leader="钟二", leader_phone="0797-3521001", cadre="刘三", cadre_phone="13907970003"),
    board(enterprise=MARKUP_NAME, leader="黄一", leader_phone="13907970009", head_phone=None, cadre=None),
    board(enterprise=LONG_NAME, leader="欧阳长风", leader_phone="13907970010", responsible_unit=None),
]
# 章贡区 sends a table, one enterprise per row.
ZHANGGONG_ROWS = [
    board(enterprise="章贡区甲燃气有限公司", leader="赵六", leader_phone="13800000002"),
    board(enterprise="章贡区丙商贸城", leader="孙八", leader_phone="13800000008", cadre_phone=None),
]


@pytest.fixture
def received(tmp_path) -> Path:
    folder = tmp_path / "公示牌"
    folder.mkdir()
    wb, (ws,) = new_workbook("公示牌")
    for values in LONGNAN_BOARDS:
        write_board(ws, values, title=BOARD_TITLE)
    (folder / "龙南县公示牌.xlsx").write_bytes(to_bytes(wb))
    wb, (ws,) = new_workbook("公示牌汇总")
    write_registry(ws, ZHANGGONG_ROWS, layout="table", title="章贡区安全生产责任公示牌信息表")
    (folder / "章贡区公示牌.xlsx").write_bytes(to_bytes(wb))
    return folder


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _pages(path: Path) -> list[str]:
    """Each page's text with whitespace removed (a wrapped name reads as one)."""
    return [re.sub(r"\s+", "", page.extract_text()) for page in pypdf.PdfReader(path).pages]


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_boards_from_workbooks_one_page_per_enterprise_in_unit_and_name_order(received, tmp_path, capsys):
    out = tmp_path / "out" / "公示牌"
    code, stdout, _ = _run(["boards", str(received), "--out", str(out)], capsys)
    assert code == 0
    zhanggong, longnan = out / "公示牌_章贡区.pdf", out / "公示牌_龙南市.pdf"
    assert sorted(p.name for p in out.iterdir()) == sorted([zhanggong.name, longnan.name])
    # Units in the canonical order (章贡区 is the first county, 龙南市 the ninth), counts printed.
    assert stdout.index("公示牌_章贡区.pdf") < stdout.index("公示牌_龙南市.pdf")
    assert "章贡区 公示牌 2 张（2 页）" in stdout and "龙南市 公示牌 3 张（3 页）" in stdout
    assert "共生成 2 个 PDF 文件，5 张公示牌" in stdout

    for path, boards in ((zhanggong, ZHANGGONG_ROWS), (longnan, LONGNAN_BOARDS)):
        pages = _pages(path)
        assert len(pages) == len(boards)
        ordered = sorted(boards, key=lambda b: b["enterprise"])
        for text, values in zip(pages, ordered):
            assert text.count(_compact(BOARD_TITLE)) == 1
            # The template's labels in its order, then the board's values on its own page.
            positions = [text.index(_compact(label)) for line in TEMPLATE_ROWS for label, _ in line[:1]]
            assert positions == sorted(positions)
            for field in ("enterprise", "leader", "leader_phone", "head", "head_phone"):
                if values.get(field):
                    assert _compact(values[field]) in text, (field, values[field])
            assert "nan" not in text.lower() and "None" not in text
    longnan_pages = _pages(longnan)
    # Markup characters in a workbook string are printed literally, and a long name is not cut.
    assert any(_compact(MARKUP_NAME) in text for text in longnan_pages)
    assert any(_compact(LONG_NAME) in text for text in longnan_pages)


def test_every_font_is_an_embedded_cjk_subset_and_the_page_is_drawn(received, tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(["boards", str(received), "--out", str(out)], capsys)[0] == 0
    pdf = out / "公示牌_龙南市.pdf"
    listing = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    fonts = [line.split() for line in listing.splitlines()[2:] if line.strip()]
    assert {row[0].split("+")[-1] for row in fonts} == {"UMingCN-0", "WenQuanYiMicroHei-0"}
    for row in fonts:
        assert row[0][6] == "+"  # a subset
        emb, sub, uni = row[-5:-2]
        assert (emb, sub, uni) == ("yes", "yes", "yes"), row

    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    (png,) = tmp_path.glob("page*.png")
    image = Image.open(png).convert("L")
    assert image.size[1] > image.size[0]  # portrait
    dark = sum(image.histogram()[:128]) / (image.size[0] * image.size[1])
    assert 0.01 < dark < 0.5


def test_the_same_registry_gives_identical_bytes(received, tmp_path, capsys):
    for run in ("a", "b"):
        assert _run(["boards", str(received), "--out", str(tmp_path / run)], capsys)[0] == 0
    for name in ("公示牌_章贡区.pdf", "公示牌_龙南市.pdf"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    registry = load_paths([received]).registry
    assert boards_pdf(registry, "龙南市") == (tmp_path / "a" / "公示牌_龙南市.pdf").read_bytes()


def test_boards_from_the_store_and_one_unit_by_its_alias(received, tmp_path, capsys):
    store = tmp_path / "data"
    assert _run(["ingest", str(received), "--store", str(store)], capsys)[0] == 0
    out = tmp_path / "out"
    code, stdout, _ = _run(["boards", "--store", str(store), "--unit", "龙南县", "--out", str(out)], capsys)
    assert code == 0
    assert [p.name for p in out.iterdir()] == ["公示牌_龙南市.pdf"]
    assert "龙南市 公示牌 3 张（3 页）" in stdout
    assert len(_pages(out / "公示牌_龙南市.pdf")) == 3
    # Spaces inside a name and the short form of a county resolve the same way.
    code, _, _ = _run(["boards", "--store", str(store), "--unit", "章　贡", "--out", str(tmp_path / "zg")], capsys)
    assert code == 0 and [p.name for p in (tmp_path / "zg").iterdir()] == ["公示牌_章贡区.pdf"]


def test_an_unknown_unit_or_a_unit_without_boards_is_a_clear_error(received, tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, stderr = _run(["boards", str(received), "--unit", "火星县", "--out", str(out)], capsys)
    assert code == 1 and stdout == ""
    assert "无法识别单位“火星县”" in stderr and "章贡区、龙南市" in stderr
    assert not out.exists()
    code, _, stderr = _run(["boards", str(received), "--unit", "瑞金", "--out", str(out)], capsys)
    assert code == 1 and "瑞金市没有报送公示牌信息" in stderr


def test_an_empty_registry_writes_nothing_and_says_so(tmp_path, capsys):
    store = tmp_path / "data"
    code, _, stderr = _run(["boards", "--store", str(store), "--out", str(tmp_path / "out")], capsys)
    assert code == 1
    assert "没有公示牌信息" in stderr and "未生成任何文件" in stderr
    assert not (tmp_path / "out").exists()


def test_missing_values_are_blank_and_absurd_names_still_fit_one_page():
    registry = pd.DataFrame([
        {"unit": "全市", "enterprise": "字" * 400, "responsible_unit": float("nan"), "head": None, "head_phone": pd.NA,
         "leader": "nan", "leader_phone": 13907970001.0, "cadre": "某" * 60, "cadre_phone": "1" * 80},
        {"unit": "赣州经开区", "enterprise": "经开区甲公司", "leader": "钟二"},  # fields absent altogether
    ])
    assert board_units(registry) == ["赣州经开区", "全市"]  # a name kept as written goes last
    data = boards_pdf(registry)
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 2
    texts = [_compact(page.extract_text()) for page in reader.pages]
    assert "经开区甲公司" in texts[0] and "字" * 400 in texts[1] and "1" * 80 in texts[1]
    assert "13907970001" in texts[1] and "13907970001.0" not in texts[1]
    assert not re.search(r"nan|None|<NA>", "".join(texts))
    assert resolve_unit(registry, "经开区") == "赣州经开区" and resolve_unit(registry, " 全 市 ") == "全市"
    with pytest.raises(BoardsError, match="无法识别单位"):
        resolve_unit(registry, "火星")


def test_fonts_register_once_and_a_missing_font_names_its_package(monkeypatch):
    assert register_fonts() is register_fonts()
    assert {field for line in TEMPLATE_ROWS for _, field in line} == set(REGISTRY_FIELDS)
    monkeypatch.setattr(fonts_module, "_find", lambda face: None)
    with pytest.raises(FontMissingError, match="fonts-wqy-microhei"):
        fonts_module._load(fonts_module._HEADING)
