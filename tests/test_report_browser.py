"""The HTML report in a real headless browser (Debian's chromium): it opens on the answer, with the
headline figure in the first screen, and every figure loads and is not blank."""
import base64
import io
import shutil

import numpy as np
import pytest
from PIL import Image

from conftest import snakemake

pytestmark = pytest.mark.workflow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FIGURES = ["headline_mnist10", "convergence", "gap", "time_to_target", "search", "accuracy_vs_time",
           "learning_curves", "time_per_method", "seed_protocols", "grids", "depth_sweep", "xor_convergence"]
VIEWPORT = {"width": 1400, "height": 1000}


@pytest.fixture(scope="module")
def browser_page(smoke_run):
    if CHROMIUM is None:
        pytest.skip("no chromium on PATH (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    workdir = smoke_run.workdir
    done = snakemake(workdir, "--configfile", "config/smoke.yaml", "--report", "report.html")
    assert done.returncode == 0, done.stderr[-3000:]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"file://{workdir / 'report.html'}")
        yield page, workdir
        browser.close()


@pytest.mark.parametrize("name", FIGURES)
def test_figure_renders_in_the_report(browser_page, name, tmp_path):
    """The image shown is this figure, found by the file name its data URI carries, with the bytes of
    results/figures/<name>.png: not whatever large image happens to be on the page."""
    page, workdir = browser_page
    page.get_by_text("Figures", exact=True).first.click()
    # the row of exactly this file: "convergence.png" is also in the row of xor_convergence.png
    row = page.locator("tr", has=page.get_by_text(f"results/figures/{name}.png", exact=True))
    row.locator("a[iconname=eye]").click()
    marker = f";filename={name}.png;"
    page.wait_for_function(
        "(marker) => Array.from(document.images).some(i => i.src.includes(marker) && i.complete"
        " && i.naturalWidth > 0)", arg=marker, timeout=15000)
    shown = page.evaluate(
        "(marker) => Array.from(document.images).filter(i => i.src.includes(marker)).map(i => {"
        " const r = i.getBoundingClientRect();"
        " return {src: i.src, size: [i.naturalWidth, i.naturalHeight], box: [r.x, r.y, r.width, r.height]}; })",
        marker)
    assert len(shown) == 1, f"{len(shown)} images named {name}.png on the page"
    figure = shown[0]
    on_disk = (workdir / f"results/figures/{name}.png").read_bytes()
    assert base64.b64decode(figure["src"].split(";base64,", 1)[1]) == on_disk
    assert figure["size"] == list(Image.open(io.BytesIO(on_disk)).size)
    shot = tmp_path / f"{name}.png"
    page.screenshot(path=str(shot))
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    x, y, w, h = (int(v) for v in figure["box"])
    assert w > 100 and h > 50, "figure is not displayed"
    region = pixels[max(y, 0):y + h, max(x, 0):x + w]
    assert region.size and region.std() > 10, "figure area is blank"


def visible_part(page, box: dict, shot) -> np.ndarray:
    """The grey levels of the part of ``box`` (x, y, width, height) the screenshot ``shot`` shows."""
    page.screenshot(path=str(shot))
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    x, y, w, h = (int(v) for v in (box["x"], box["y"], box["width"], box["height"]))
    return pixels[max(y, 0):min(y + h, VIEWPORT["height"]), max(x, 0):min(x + w, VIEWPORT["width"])]


def test_report_opens_on_the_answer_with_the_headline_figure_in_the_first_screen(browser_page, tmp_path):
    page, workdir = browser_page
    page.goto(page.url.split("#")[0])
    marker = ";filename=headline_"
    page.wait_for_function(
        "(marker) => Array.from(document.images).some(i => i.src.includes(marker) && i.complete"
        " && i.naturalWidth > 0)", arg=marker, timeout=15000)
    first = page.evaluate(
        "(marker) => { const i = Array.from(document.images).find(i => i.src.includes(marker));"
        " const r = i.getBoundingClientRect(); return {name: i.src.split(';filename=')[1].split(';')[0],"
        " x: r.x, y: r.y, width: r.width, height: r.height}; }", marker)
    on_disk = (workdir / "results/figures" / first["name"]).read_bytes()
    assert first["name"].startswith("headline_") and len(on_disk) > 10_000
    assert first["width"] > 600, "the headline figure is squeezed into a narrow column"
    assert 0 <= first["y"] and first["y"] + first["height"] / 2 < VIEWPORT["height"], \
        f"the headline figure starts below the first screen: {first}"
    region = visible_part(page, first, tmp_path / "landing.png")
    assert region.size and region.std() > 10, "the headline figure's area is blank"
    text = page.inner_text("body")
    assert text.index("The answer") < text.index("against backprop")
    answer = page.evaluate("() => document.evaluate(\"//*[contains(text(), 'against backprop')]\", document, null,"
                           " XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue.getBoundingClientRect().y")
    assert 0 <= answer < first["y"], "the verdicts are not above the headline figure in the first screen"


def test_report_home_shows_the_description(browser_page):
    page, _ = browser_page
    page.goto(page.url.split("#")[0])
    assert "edbench compares learning rules" in page.inner_text("body")
