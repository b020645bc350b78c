#!/usr/bin/python3
"""End-to-end test of edgeward's admin web UI in a real browser (headless Chromium through
Selenium/chromedriver), run inside the lab's admin workstation namespace by
tests/tests/webui.rs. Every step asserts on what the page shows; screenshots of the main pages
go to --shots.

Scenario: the factory account's first login forces a new password and TOTP enrolment; the UI
renders in Vietnamese and in English; a viewer cannot change anything (pages and API); five
wrong passwords lock an account until another admin unlocks it; a security admin's change with
commit-confirm that is not confirmed is rolled back."""

import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import struct
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

TEMP = "Tam-thoi-2026!"


def totp(secret_b32, at=None):
    key = base64.b32decode(secret_b32.strip().upper() + "=" * (-len(secret_b32.strip()) % 8))
    counter = int((at if at is not None else time.time()) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


class Harness:
    def __init__(self, url, shots):
        self.url = url.rstrip("/")
        self.shots = shots
        os.makedirs(shots, exist_ok=True)
        opts = webdriver.ChromeOptions()
        opts.binary_location = "/usr/bin/chromium"
        for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                  "--ignore-certificate-errors", "--window-size=1366,900", "--lang=vi-VN"):
            opts.add_argument(a)
        opts.set_capability("acceptInsecureCerts", True)
        self.d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
        self.d.set_page_load_timeout(60)
        self.d.implicitly_wait(0)
        self.secrets = {}
        self.last_step = {}

    def step(self, msg):
        print(f"[webui] {msg}", flush=True)

    def go(self, path):
        self.d.get(self.url + path)

    def path(self):
        return "/" + self.d.current_url.split("/", 3)[-1].split("?")[0] if self.d.current_url.count("/") >= 3 else "/"

    def text(self):
        return self.d.find_element(By.TAG_NAME, "body").text

    def has(self, css):
        return len(self.d.find_elements(By.CSS_SELECTOR, css)) > 0

    def fill(self, css, value):
        el = self.d.find_element(By.CSS_SELECTOR, css)
        el.clear()
        el.send_keys(value)

    def click(self, css):
        """Click something that submits a form or follows a link; wait for the new page."""
        self.d.execute_script("window.__ewOld = true;")
        self.d.find_element(By.CSS_SELECTOR, css).click()
        WebDriverWait(self.d, 30).until(
            lambda d: d.execute_script("return window.__ewOld === undefined && document.readyState === 'complete';"))

    def shot(self, name):
        self.d.save_screenshot(os.path.join(self.shots, name + ".png"))

    def expect(self, cond, msg):
        if not cond:
            self.shot("FAILED")
            raise AssertionError(f"{msg}\n  at {self.d.current_url}\n  page: {self.text()[:1500]}")

    def set_lang(self, lang):
        self.go(f"/lang?to={lang}&back=/login")

    def login(self, user, password):
        self.go("/login")
        self.fill("#username", user)
        self.fill("#password", password)
        self.click("#login-submit")

    def logout(self):
        if self.has("#logout"):
            self.click("#logout")
        self.d.delete_all_cookies()

    def first_login(self, user, new_password, full_name=None, expect_totp=True):
        """Forced password change (and TOTP enrolment for every role that can change anything); ends on the dashboard."""
        self.expect(self.path() == "/password", f"{user}: first login must force a password change")
        self.expect(self.has("#forced"), "the forced-change notice is shown")
        if full_name is not None:
            self.fill("#full_name", full_name)
        self.fill("#new_password", new_password)
        self.fill("#confirm", new_password)
        self.click("#password-submit")
        if expect_totp:
            self.expect(self.path() == "/totp/enrol", f"{user}: an admin must enrol TOTP next")
            self.expect(self.has(".qr svg"), "a QR code is shown")
            secret = self.d.find_element(By.CSS_SELECTOR, "#totp-secret").text
            self.secrets[user] = secret
            self.fill("#code", self.fresh_code(user))
            self.click("#totp-submit")
        self.expect(self.path() == "/dashboard", f"{user}: first login ends on the dashboard")

    def fresh_code(self, user):
        """A code of a step the appliance has not accepted yet (it refuses replays): the
        current step, else the next (still inside its ±1 window when the request arrives a
        step later — the previous step would not be), waiting if need be."""
        while True:
            now = int(time.time() // 30)
            for step in (now, now + 1):
                if step > self.last_step.get(user, 0):
                    self.last_step[user] = step
                    return totp(self.secrets[user], step * 30)
            time.sleep(1)

    def totp_step(self, user):
        self.expect(self.path() == "/totp/verify", f"{user}: TOTP is asked after the password")
        self.fill("#code", self.fresh_code(user))
        self.click("#totp-submit")
        self.expect(self.path() == "/dashboard", f"{user}: logged in after TOTP")

    def fetch(self, method, path, body=None):
        """A request from the page's own origin with the page's CSRF token."""
        script = """
const [method, path, body, done] = arguments;
const token = (document.querySelector('input[name=_csrf]') || {}).value || '';
fetch(path, {method, headers: {'content-type': 'application/json', 'x-csrf-token': token},
             body: body === null ? undefined : body, credentials: 'same-origin'})
  .then(r => r.text().then(t => done([r.status, t]))).catch(e => done([0, String(e)]));
"""
        return self.d.execute_async_script(script, method, path, None if body is None else json.dumps(body))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--shots", required=True)
    ap.add_argument("--confirm-seconds", type=int, required=True)
    args = ap.parse_args()
    h = Harness(args.url, args.shots)
    h.d.set_script_timeout(30)
    try:
        run(h, args)
    finally:
        h.d.quit()


def run(h, args):
    # --- Vietnamese by default, English on request --------------------------------------
    h.step("login page renders in Vietnamese by default")
    h.go("/login")
    h.expect("Đăng nhập" in h.text() and "Tên đăng nhập" in h.text(), "Vietnamese login page")
    h.shot("01-login-vi")

    # --- factory account: forced password change and TOTP enrolment --------------------
    h.step("factory account: first login forces a new password")
    h.login("admin", "edgeward")
    h.expect(h.path() == "/password", "factory login must land on the password change")
    h.shot("02-first-login-password")
    h.fill("#full_name", "Trần Văn Quản")
    h.fill("#person_id", "quan@sotttt.gov.vn")
    h.fill("#new_password", "short")
    h.fill("#confirm", "short")
    h.click("#password-submit")
    h.expect(h.has("#password-problems") and "quá ngắn" in h.text(), "weak password refused with Vietnamese reasons")
    h.shot("03-password-policy-errors")
    h.fill("#full_name", "Trần Văn Quản")
    h.fill("#person_id", "quan@sotttt.gov.vn")
    h.fill("#new_password", "Quan-Tri-2026!")
    h.fill("#confirm", "Quan-Tri-2026!")
    h.click("#password-submit")
    h.expect(h.path() == "/totp/enrol", "TOTP enrolment follows the password change")
    h.shot("04-totp-enrolment")
    secret = h.d.find_element(By.CSS_SELECTOR, "#totp-secret").text
    h.secrets["admin"] = secret
    h.fill("#code", "000000" if totp(secret) != "000000" else "111111")
    h.click("#totp-submit")
    h.expect(h.path() == "/totp/enrol" and h.has("#error"), "a wrong code is refused")
    h.fill("#code", h.fresh_code("admin"))
    h.click("#totp-submit")
    h.expect(h.path() == "/dashboard", "dashboard after enrolment")
    h.expect("Tổng quan" in h.text(), "dashboard in Vietnamese")
    h.shot("05-dashboard-vi")
    h.step("the factory password no longer works")
    h.logout()
    h.login("admin", "edgeward")
    h.expect(h.path() == "/login" and h.has("#error"), "factory password refused after the change")

    h.step("English switch")
    h.login("admin", "Quan-Tri-2026!")
    h.totp_step("admin")
    h.click("#lang-switch")
    h.expect("Dashboard" in h.text() and "Uplink states" in h.text(), "dashboard in English")
    h.shot("06-dashboard-en")
    h.click("#lang-switch")
    h.expect("Tổng quan" in h.text(), "back to Vietnamese")

    # --- accounts ---------------------------------------------------------------------
    h.step("system admin creates personal accounts")
    for user, name, role in (("minh", "Lê Văn Minh", "security_admin"), ("lan", "Nguyễn Thị Lan", "viewer"),
                             ("hoa", "Phạm Thị Hoa", "operator")):
        h.go("/accounts")
        h.fill("#username", user)
        h.fill("#full_name", name)
        h.fill("#person_id", f"{user}@sotttt.gov.vn")
        h.fill("#citizen_id", "001090012345")
        h.fill("#phone", "0912 345 678")
        h.fill("#department", "Phòng Công nghệ thông tin")
        h.fill("#purpose", "vận hành hệ thống")
        h.fill("#scope", "cổng an toàn thông tin")
        h.d.find_element(By.CSS_SELECTOR, f"#role option[value={role}]").click()
        h.fill("#password", TEMP)
        h.click("#create-account-submit")
        h.expect(h.has(f"#account-{user}"), f"account {user} listed")
    h.shot("07-accounts")
    h.step("the system admin may not edit the firewall (separation of duties)")
    h.go("/config/edit?sections=policies")
    h.expect(h.has("#error") and "không được phép" in h.text(), "system admin refused the firewall editor")
    h.logout()

    # --- viewer cannot change anything ----------------------------------------------------
    h.step("viewer: first login, then nothing can be changed")
    h.login("lan", TEMP)
    h.first_login("lan", "Xem-Chi-2026!", expect_totp=False)
    nav = h.d.find_element(By.CSS_SELECTOR, "nav.side").text
    h.expect("Tài khoản" not in nav and "Nhật ký quản trị" not in nav, "viewer's menu has no accounts or audit")
    h.go("/devices")
    h.expect(not h.has("#add-device") and not h.has("#import-csv"), "viewer sees no device forms")
    h.shot("08-viewer-devices")
    for path in ("/accounts", "/audit", "/config/edit?sections=uplinks"):
        h.go(path)
        h.expect(h.has("#error"), f"viewer refused {path}")
    h.shot("09-viewer-forbidden")
    h.go("/dashboard")
    status, _ = h.fetch("POST", "/api/v1/config/apply", {"text": "x", "reason": "viewer tries"})
    h.expect(status == 403, f"viewer's API apply refused with 403, got {status}")
    status, _ = h.fetch("PUT", "/api/v1/devices", {"user": "x", "type": "pc", "mac": "aa:bb:cc:00:00:01", "zone": "staff"})
    h.expect(status == 403, f"viewer's API device change refused with 403, got {status}")
    status, _ = h.fetch("POST", "/api/v1/accounts", {"username": "x"})
    h.expect(status == 403, f"viewer's API account creation refused with 403, got {status}")
    h.logout()

    # --- lockout ------------------------------------------------------------------------
    h.step("five wrong passwords lock the operator's account")
    for i in range(5):
        h.login("hoa", f"wrong-{i}")
    h.expect("bị khóa" in h.text(), "the fifth failure locks the account")
    h.shot("10-account-locked")
    h.login("hoa", TEMP)
    h.expect(h.path() == "/login" and "bị khóa" in h.text(), "the right password is refused while locked")
    h.step("another admin unlocks it")
    h.login("admin", "Quan-Tri-2026!")
    h.totp_step("admin")
    h.go("/accounts")
    h.expect("Bị khóa" in h.d.find_element(By.CSS_SELECTOR, "#account-hoa").text, "hoa shown locked")
    h.shot("11-accounts-locked")
    h.click("#unlock-hoa")
    h.expect("Hoạt động" in h.d.find_element(By.CSS_SELECTOR, "#account-hoa").text, "hoa active after unlock")
    h.go("/system")
    h.shot("12-system")
    h.go("/audit")
    h.expect("Khóa tài khoản" in h.text() and "Mở khóa tài khoản" in h.text(), "lockout and unlock are audited")
    h.shot("13-audit")
    h.logout()
    h.login("hoa", TEMP)
    h.first_login("hoa", "Van-Hanh-2026!")  # operators change secrets: TOTP too

    # --- Wi-Fi: the operator's everyday task, without the section editor -----------------
    h.step("operator adds the guest Wi-Fi (passphrase generated) and changes its passphrase")
    h.go("/wifi")
    h.expect(h.has("#no-wifi") and h.has("#add-wifi"), "no Wi-Fi yet, and the add form is offered")
    h.fill("#wifi-ssid", "Khach-SoVD")
    h.fill("#wifi-passphrase", "ngan-qua")
    h.click("#add-wifi-submit")
    h.expect(h.has(".field-error") and "từ 12 đến 63 ký tự" in h.text(), "a short passphrase refused next to its field")
    h.fill("#wifi-ssid", "Khach-SoVD")
    h.fill("#wifi-passphrase", "")
    h.click("#add-wifi-submit")
    row = "tr[data-ssid='Khach-SoVD']"
    h.expect(h.path() == "/wifi" and h.has(row), "the network is listed")
    generated = h.d.find_element(By.CSS_SELECTOR, row + " code.passphrase").get_attribute("textContent")
    h.expect(re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", generated) is not None,
             f"a readable random passphrase was generated: {generated!r}")
    h.expect("Còn hạn" in h.d.find_element(By.CSS_SELECTOR, row).text, "its rotation is current")
    h.fill(row + " input[name=passphrase]", "Hoa-Sen-Vang-2026")
    h.click(row + " form.change-passphrase button")
    shown = h.d.find_element(By.CSS_SELECTOR, row + " code.passphrase").get_attribute("textContent")
    h.expect(shown == "Hoa-Sen-Vang-2026", f"the new passphrase is shown to the operator: {shown!r}")
    h.shot("22-wifi-operator")
    h.logout()

    # --- commit-confirm -----------------------------------------------------------------
    h.step("security admin: first login with TOTP")
    h.login("minh", TEMP)
    h.first_login("minh", "An-Ninh-2026!x")
    for page, name in (("/zones", "14-zones"), ("/uplinks", "15-uplinks"), ("/ids", "16-ids"), ("/devices", "17-devices")):
        h.go(page)
        h.shot(name)
    h.step("the security admin sees the Wi-Fi network but not its passphrase")
    h.go("/wifi")
    h.expect(h.has("tr[data-ssid='Khach-SoVD']") and "Hoa-Sen-Vang-2026" not in h.d.page_source
             and not h.has("#add-wifi"), "passphrase hidden and no Wi-Fi forms for the security admin")
    h.go("/config")
    h.expect("Hoa-Sen-Vang-2026" not in h.d.page_source and "••••••••" in h.d.page_source,
             "the configuration text hides the passphrase")
    h.go("/config")
    before = int(h.d.find_element(By.CSS_SELECTOR, "#running-version").text.lstrip("v"))
    h.step(f"an invalid edit is refused next to its line (running v{before})")
    h.go("/config/edit?sections=uplinks")
    original = h.d.find_element(By.CSS_SELECTOR, "#config-editor").get_attribute("value")
    h.expect("weight = 3" in original, "the editor shows the uplinks section")
    h.d.execute_script("document.getElementById('config-editor').value = arguments[0];",
                       original.replace("weight = 3", "weight = 0", 1))
    h.click("#check")
    h.expect(h.has("#problems") and "dòng" in h.text() and "Trọng số phải lớn hơn 0" in h.text(),
             "validation error shown in Vietnamese with its line")
    h.shot("18-config-invalid")
    h.step("a valid edit applied with commit-confirm and left unconfirmed")
    h.d.execute_script("document.getElementById('config-editor').value = arguments[0];",
                       original.replace("weight = 3", "weight = 5", 1))
    h.click("#check")
    h.expect(h.has("#valid") and h.has("pre.diff"), "valid change shows its diff")
    h.fill("#reason", "thử chia tải 5:1")
    h.expect(h.d.find_element(By.CSS_SELECTOR, "#commit-confirm").is_selected(), "commit-confirm on by default")
    h.shot("19-config-diff")
    h.click("#apply")
    h.expect(h.has("#awaiting") and h.has("#countdown"), "the unconfirmed change shows a countdown")
    applied = int(h.d.find_element(By.CSS_SELECTOR, "#running-version").text.lstrip("v"))
    h.expect(applied == before + 1, f"the change runs as v{before + 1} (running v{applied})")
    h.shot("20-commit-confirm-countdown")
    h.step(f"waiting {args.confirm_seconds} s without confirming")
    deadline = time.time() + args.confirm_seconds + 30
    def version():
        return int(h.d.find_element(By.CSS_SELECTOR, "#running-version").text.lstrip("v"))
    while time.time() < deadline:
        time.sleep(2)
        h.go("/config")
        if not h.has("#awaiting") and version() != applied:
            break
    h.expect(not h.has("#awaiting"), "the banner is gone after the deadline")
    now = int(h.d.find_element(By.CSS_SELECTOR, "#running-version").text.lstrip("v"))
    h.expect(now == before + 2, f"rolled back as a new version v{before + 2} (running v{now})")
    first_row = h.d.find_elements(By.CSS_SELECTOR, "#history tr")[1].text
    h.expect(f"← v{before}" in first_row and "tự động quay lui" in first_row, f"history shows the automatic rollback: {first_row}")
    h.go("/config/edit?sections=uplinks")
    h.expect("weight = 3" in h.d.find_element(By.CSS_SELECTOR, "#config-editor").get_attribute("value"), "the old weight is back")
    h.go("/config")
    h.shot("21-config-history-rolled-back")
    h.logout()
    h.step("all steps passed")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"[webui] FAILED: {e}", file=sys.stderr)
        sys.exit(1)
