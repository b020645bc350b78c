#!/usr/bin/env python3
"""Drive a booted appliance's admin UI from the management LAN, for image/test.sh.

Logs in as a system administrator the way a person would (the factory account's first login:
forced password change and TOTP enrolment; later logins: password then TOTP code), keeps the
session in a state file, and calls the API:

  drive.py --url https://127.0.0.1:PORT --state FILE status
  drive.py --url … --state FILE upload BUNDLE        (prints the HTTP status and the answer)
  drive.py --url … --state FILE audit ACTION         (audit events of ACTION, newest first)
  drive.py --url … --state FILE logout               (forget the session: the box rebooted)

Only the Python standard library; certificates are not checked (the appliance's is self-signed
at first boot).
"""
import argparse
import base64
import hashlib
import hmac
import http.cookiejar
import json
import os
import re
import ssl
import struct
import sys
import time
import urllib.parse
import urllib.request
import uuid

PASSWORD = "Quan-Tri-Vien-2026!"


def totp(secret_b32, step):
    key = base64.b32decode(secret_b32.strip().upper() + "=" * (-len(secret_b32.strip()) % 8))
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


class Box:
    def __init__(self, url, state_path):
        self.url = url.rstrip("/")
        self.state_path = state_path
        self.state = {}
        if os.path.exists(state_path):
            with open(state_path) as f:
                self.state = json.load(f)
        self.jar = http.cookiejar.CookieJar()
        for name, value in self.state.get("cookies", {}).items():
            self.jar.set_cookie(http.cookiejar.Cookie(
                0, name, value, None, False, "127.0.0.1", False, False, "/", True, True, None,
                False, None, None, {}))
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=ctx), urllib.request.HTTPCookieProcessor(self.jar))

    def save(self):
        self.state["cookies"] = {c.name: c.value for c in self.jar}
        with open(self.state_path, "w") as f:
            json.dump(self.state, f)

    def request(self, method, path, data=None, headers=None, timeout=60):
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers or {})
        try:
            with self.opener.open(req, timeout=timeout) as r:
                return r.status, r.geturl(), r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.geturl(), e.read()

    def form(self, path, fields):
        data = urllib.parse.urlencode(fields).encode()
        return self.request("POST", path, data, {"content-type": "application/x-www-form-urlencoded"})

    @staticmethod
    def hidden(page, name):
        m = re.search(rb'name="%s" value="([^"]*)"' % name.encode(), page)
        return m.group(1).decode() if m else ""

    def code(self):
        """A TOTP code of a step the box has not seen (it refuses replays)."""
        while True:
            now = int(time.time() // 30)
            for step in (now, now + 1):
                if step > self.state.get("last_step", 0):
                    self.state["last_step"] = step
                    return totp(self.state["secret"], step)
            time.sleep(1)

    def login(self):
        status, url, _ = self.request("GET", "/api/v1/system/update")
        if status == 200:
            return
        self.jar.clear()
        _, _, page = self.request("GET", "/login")
        # The box's own factory password (from its label / console) until the first login.
        password = self.state.get("password", os.environ.get("EDGEWARD_FACTORY_PASSWORD", "edgeward"))
        _, url, page = self.form("/login", {"_pre": self.hidden(page, "_pre"), "username": "admin", "password": password})
        path = urllib.parse.urlparse(url).path
        if path == "/password":
            _, url, page = self.form("/password", {
                "_csrf": self.hidden(page, "_csrf"), "full_name": "Nguyễn Văn Quản Trị",
                "person_id": "quantri@so.gov.vn", "new_password": PASSWORD, "confirm": PASSWORD})
            self.state["password"] = PASSWORD
            path = urllib.parse.urlparse(url).path
        if path == "/totp/enrol":
            secret = re.search(rb'id="totp-secret"[^>]*>([A-Z2-7=]+)<', page)
            if not secret:
                sys.exit("no TOTP secret on the enrolment page")
            self.state["secret"] = secret.group(1).decode()
            _, url, page = self.form("/totp/enrol", {"_csrf": self.hidden(page, "_csrf"), "code": self.code()})
            path = urllib.parse.urlparse(url).path
        if path == "/totp/verify":
            _, url, page = self.form("/totp/verify", {"_csrf": self.hidden(page, "_csrf"), "code": self.code()})
            path = urllib.parse.urlparse(url).path
        if path != "/dashboard":
            sys.exit(f"login did not reach the dashboard (at {path})")
        _, _, page = self.request("GET", "/system")
        self.state["csrf"] = self.hidden(page, "_csrf")
        self.save()

    def api(self, method, path, data=None, headers=None, timeout=60):
        h = {"x-csrf-token": self.state.get("csrf", "")}
        h.update(headers or {})
        return self.request(method, path, data, h, timeout)


def upload(box, path):
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"bundle\"; filename=\"update.ewu\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = os.path.getsize(path)

    def body():
        yield head
        with open(path, "rb") as f:
            while True:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                yield chunk
        yield tail

    status, _, answer = box.api("POST", "/api/v1/system/update", body(), {
        "content-type": f"multipart/form-data; boundary={boundary}",
        "content-length": str(len(head) + size + len(tail))}, timeout=1800)
    print(status, answer.decode(errors="replace"))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--state", required=True)
    p.add_argument("cmd", choices=["status", "upload", "audit", "logout", "ssh-key"])
    p.add_argument("arg", nargs="?")
    a = p.parse_args()
    box = Box(a.url, a.state)
    if a.cmd == "logout":
        box.state.pop("cookies", None)
        box.jar.clear()
        box.save()
        return
    box.login()
    if a.cmd == "status":
        status, _, answer = box.api("GET", "/api/v1/system/update")
        print(answer.decode())
        sys.exit(0 if status == 200 else 1)
    if a.cmd == "upload":
        upload(box, a.arg)
    if a.cmd == "ssh-key":
        # Turn SSH on for this public key (the management section is the system admin's).
        # The running text (the daemon publishes it once its first apply is done).
        for _ in range(60):
            status, _, answer = box.api("GET", "/api/v1/config")
            text = json.loads(answer).get("text", "") if status == 200 else ""
            if "ssh_port = 22\n" in text:
                break
            time.sleep(2)
        else:
            sys.exit(f"the running configuration has no `ssh_port = 22` line ({status}): {answer[:300]!r}")
        key = open(a.arg).read().strip()
        text = text.replace("ssh_port = 22\n", "ssh_port = 22\nssh = { enabled = true, authorized_keys = [\"%s\"] }\n" % key, 1)
        status, _, answer = box.api("POST", "/api/v1/config/apply",
                                    json.dumps({"text": text, "reason": "SSH for the Wi-Fi test", "confirm": False}).encode(),
                                    {"content-type": "application/json"})
        print(status, answer.decode(errors="replace"))
        sys.exit(0 if status == 200 else 1)
    if a.cmd == "audit":
        status, _, answer = box.api("GET", "/api/v1/audit?limit=200")
        events = json.loads(answer)
        items = events if isinstance(events, list) else events.get("events", [])
        print(json.dumps([e for e in items if a.arg in json.dumps(e)], ensure_ascii=False))


if __name__ == "__main__":
    main()
