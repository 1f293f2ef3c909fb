"""The web group chat in a real headless Chromium (Debian's `chromium` package, driven by Playwright) against
a real `tuanbot serve --demo` on a free port with a fast scheduler tick. Each step saves a screenshot
under the test's tmp folder."""
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ADMIN = {"Authorization": "Bearer browser-test-token"}
URL_LINE = re.compile(r"Open the web group chat: (http://127\.0\.0\.1:(\d+)/chat)$")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium: install Debian's package (apt-get install -y chromium) to run the browser tests"
)
expect.set_options(timeout=15_000)  # a shared 2-core CI machine can be slow; each wait ends as soon as it holds


class Server:
    """`tuanbot serve --demo` in its own process; restartable on the same port and database."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.env = {
            **os.environ,
            "TUANBOT_DATABASE_URL": f"sqlite:///{workdir}/tuanbot.db",
            "TUANBOT_SCHEDULER_TICK_SECONDS": "0.2",
            "TUANBOT_QUIET_HOURS": "",
            "TUANBOT_ADMIN_TOKEN": ADMIN["Authorization"].split()[1],
        }
        self.port = 0
        self.lines: list[str] = []

    def start(self) -> None:
        self.lines = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--demo", "--port", str(self.port)], cwd=self.workdir,
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()
        deadline = time.monotonic() + 60
        while not any(URL_LINE.search(line) for line in self.lines):
            assert self.proc.poll() is None, "the server stopped:\n" + "\n".join(self.lines)
            assert time.monotonic() < deadline, "no page URL in the start-up output:\n" + "\n".join(self.lines)
            time.sleep(0.05)
        self.port = int(URL_LINE.search(next(line for line in self.lines if URL_LINE.search(line))).group(2))
        self.url = f"http://127.0.0.1:{self.port}"

    def _read(self, proc) -> None:
        for line in proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("serve"))
    s.start()
    yield s
    if s.proc.poll() is None:
        s.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def open_page(browser, server):
    contexts = []

    def open_page() -> Page:
        ctx = browser.new_context(viewport={"width": 390, "height": 780}, device_scale_factor=1)
        contexts.append(ctx)
        page = ctx.new_page()
        page.goto(server.url + "/chat")
        expect(page.locator("#status")).to_have_class(re.compile(r"\blive\b"))
        return page

    yield open_page
    for ctx in contexts:
        ctx.close()


def shot(page: Page, path: Path) -> None:
    page.screenshot(path=str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def say(page: Page, who: str, text: str) -> None:
    page.click(f"#personas button[data-key={who}]")
    page.keyboard.type(text)  # the box keeps focus after the switch
    page.keyboard.press("Enter")


def answer_to(page: Page, text: str):
    """The bot's reply right under the message `text`."""
    asked = page.locator(".msg.said:not(.pending)", has=page.locator(".bubble", has_text=re.compile("^" + re.escape(text) + "$")))
    expect(asked.last).to_be_visible()
    return asked.last.locator("xpath=following-sibling::div[contains(@class, 'reply')][1]").locator(".bubble")


def test_start_up_output_ends_with_the_page_url(server):
    """Start-up is over once uvicorn says where it runs; the page's URL comes right after (what the
    running server logs later, requests and scheduler warnings, is not start-up output)."""
    at = next(i for i, line in enumerate(server.lines) if URL_LINE.search(line))
    assert "Uvicorn running on" in server.lines[at - 1]
    assert any("Application startup complete" in line for line in server.lines[:at])


def test_browse_open_join_and_settle_seen_by_everyone(open_page, tmp_path):
    mine, theirs = open_page(), open_page()  # two people's phones in the same group

    say(mine, "u1", "商品")
    expect(answer_to(mine, "商品")).to_contain_text("A12 潮流男鞋")
    expect(mine.locator("#box")).to_be_focused()
    shot(mine, tmp_path / "1-browse.png")

    mine.keyboard.type("第一行")
    mine.keyboard.press("Shift+Enter")
    mine.keyboard.type("第二行")
    expect(mine.locator("#box")).to_have_value("第一行\n第二行")
    mine.locator("#box").fill("")

    say(mine, "owner", "开团 A12 2:150 4:120 截止 2h")
    opened = answer_to(mine, "开团 A12 2:150 4:120 截止 2h")
    expect(opened).to_contain_text("¥150.00")
    gb = re.search(r"#(\d+)", opened.inner_text()).group(1)
    expect(theirs.locator(".msg.reply .bubble", has_text="¥150.00").first).to_be_visible()  # live on the other phone
    shot(mine, tmp_path / "2-owner-opens.png")

    say(theirs, "u2", "+1 42码")  # the demo sneakers come in sizes
    expect(answer_to(theirs, "+1 42码")).to_contain_text(f"#{gb}")
    say(theirs, "u3", "+1 41码")
    expect(mine.locator(".msg.said .meta", has_text="老李")).to_be_visible()
    shot(theirs, tmp_path / "3-members-join.png")

    say(mine, "owner", f"结束 {gb}")
    settled = answer_to(mine, f"结束 {gb}")
    expect(settled).to_contain_text("¥150.00")
    result = settled.inner_text()
    expect(answer_to(theirs, f"结束 {gb}")).to_have_text(result)  # everyone sees the settlement
    shot(mine, tmp_path / "4-settled-owner.png")
    shot(theirs, tmp_path / "4-settled-member.png")


def test_a_scheduled_push_appears_live_without_reload(open_page, server, tmp_path):
    page = open_page()
    at = (datetime.now(timezone.utc) + timedelta(seconds=2)).isoformat(timespec="seconds")
    r = httpx.post(f"{server.url}/admin/groups/demo/pushes", json={"text": "今晚 8 点直播开团，记得来！", "at": at},
                   headers=ADMIN)
    assert r.status_code == 201, r.text
    expect(page.locator(".msg.push .bubble", has_text="今晚 8 点直播开团")).to_be_visible()
    shot(page, tmp_path / "5-push-live.png")


def test_a_product_named_with_markup_shows_as_text(open_page, server, tmp_path):
    name = '<img src=x onerror="document.body.dataset.hacked=1">'
    r = httpx.post(f"{server.url}/admin/products", json={"code": "X1", "name": name, "price_fen": 100, "stock": 5},
                   headers=ADMIN)
    assert r.status_code == 201, r.text
    page = open_page()
    say(page, "u1", "详情 X1")
    expect(answer_to(page, "详情 X1")).to_contain_text(name)
    assert page.locator("#messages img").count() == 0
    assert page.evaluate("document.body.dataset.hacked") is None
    shot(page, tmp_path / "6-markup-as-text.png")


def test_the_page_reconnects_by_itself_after_a_server_restart(open_page, server, tmp_path):
    page = open_page()
    shown = page.locator(".msg").count()
    server.stop()
    expect(page.locator("#status")).to_have_class(re.compile(r"\bdown\b"))
    expect(page.locator("#status")).to_contain_text("reconnecting")
    shot(page, tmp_path / "7-reconnecting.png")
    server.start()  # same port, same database
    expect(page.locator("#status")).to_have_class(re.compile(r"\blive\b"))
    assert page.locator(".msg").count() == shown  # the history is not shown twice
    say(page, "u2", "帮助")
    expect(answer_to(page, "帮助")).to_contain_text("商品")
    shot(page, tmp_path / "8-after-restart.png")
