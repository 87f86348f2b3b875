"""Drives headless Chromium over the DevTools protocol against the daemon's dashboard.

Usage: dashboard.py BASE_URL TOKEN SCREENSHOT_DIR JOB

Loads the page, reads what it rendered and compares it with what the API serves (jobs with
their schedule, zone and next run; the statistics; the tasks), saves screenshots at desktop
and phone width, then clicks the run button of JOB with the mouse: the page asks for the
token (a prompt, answered here), starts the run, and says so. Prints the run's id last.
Exits non-zero, saying what differs, when anything does.
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket

BASE, TOKEN, SHOTS, JOB = sys.argv[1:5]


def api(path):
    request = urllib.request.Request(BASE + path, headers={"Authorization": "Bearer " + TOKEN})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


class Browser:
    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="housekeep-chromium-")
        chromium = shutil.which("chromium") or "/usr/bin/chromium"
        self.process = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
             "--remote-debugging-port=0", "--user-data-dir=" + self.profile, "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        for _ in range(300):
            if os.path.exists(port_file) and open(port_file).read().count("\n") >= 1:
                break
            time.sleep(0.1)
        else:
            fail("chromium did not start its DevTools endpoint")
        port = open(port_file).read().split("\n")[0]
        with urllib.request.urlopen("http://127.0.0.1:%s/json/list" % port, timeout=10) as response:
            pages = [t for t in json.load(response) if t["type"] == "page"]
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        self.next_id = 0
        self.dialogs = []
        self.errors = []  # what the page logged as errors (a refused script or style, a failed request)
        self.answer = None  # what a prompt is answered with; None: dismissed

    def close(self):
        try:
            self.ws.close()
        finally:
            self.process.kill()
            self.process.wait()
            shutil.rmtree(self.profile, ignore_errors=True)

    def send(self, method, params=None):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params or {}}))
        return self.next_id

    def call(self, method, params=None):
        """Sends a command and waits for its answer, answering dialogs that open meanwhile."""
        wanted = self.send(method, params)
        while True:
            message = json.loads(self.ws.recv())
            if message.get("method") == "Page.javascriptDialogOpening":
                self.dialogs.append(message["params"])
                accept = self.answer is not None
                self.send("Page.handleJavaScriptDialog", {"accept": accept, "promptText": self.answer or ""})
            elif message.get("method") == "Log.entryAdded" and message["params"]["entry"]["level"] == "error":
                self.errors.append(message["params"]["entry"]["text"])
            elif message.get("method") == "Runtime.exceptionThrown":
                self.errors.append(str(message["params"]["exceptionDetails"]))
            elif message.get("id") == wanted:
                if "error" in message:
                    fail("%s: %s" % (method, message["error"]))
                return message["result"]

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            fail("script error: %s" % result["exceptionDetails"])
        return result["result"].get("value")

    def wait_for(self, expression, seconds, what):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.evaluate(expression):
                return
            time.sleep(0.1)
        fail("waited %d s for %s" % (seconds, what))

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})["data"]
        with open(path, "wb") as out:
            out.write(base64.b64decode(data))

    def click(self, selector):
        box = self.evaluate(
            "(() => { const e = document.querySelector(%s); e.scrollIntoView({block: 'center'});"
            " const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
            % json.dumps(selector))
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent",
                      {"type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1})


browser = Browser()
try:
    browser.call("Page.enable")
    browser.call("Runtime.enable")
    browser.call("Log.enable")
    browser.call("Emulation.setDeviceMetricsOverride",
                 {"width": 1280, "height": 1000, "deviceScaleFactor": 1, "mobile": False})
    browser.call("Page.navigate", {"url": BASE + "/"})
    browser.wait_for("document.body && document.body.dataset.loaded === 'yes'", 20, "the page to load its data")

    # What the page shows is what the API serves.
    status = api("/api/v1/status")
    stats = api("/api/v1/stats")
    shown_jobs = browser.evaluate("""Array.from(document.querySelectorAll('#jobs tbody tr')).map(r => ({
        name: r.dataset.job, task: r.querySelector('.task').textContent,
        schedule: r.querySelector('.schedule').textContent, zone: r.querySelector('.zone').textContent,
        next: r.querySelector('.next').textContent, button: !!r.querySelector('button[data-run]')}))""")
    served_jobs = [{"name": j["name"], "task": j["task"], "schedule": j["schedule"], "zone": j["timezone"],
                    "next": j["next"][0] if j["next"] else "never", "button": True} for j in status["jobs"]]
    if shown_jobs != served_jobs:
        fail("jobs shown %s, served %s" % (shown_jobs, served_jobs))
    shown_stats = browser.evaluate("""Array.from(document.querySelectorAll('#stats .card')).map(c =>
        [c.dataset.task, c.dataset.figure, Number(c.querySelector('.value').dataset.value)])""")
    served_stats = [[s["task"], figure, value] for s in stats["stats"] if s["figures"]
                    for figure, value in s["figures"].items()]
    if not served_stats or shown_stats != served_stats:
        fail("statistics shown %s, served %s" % (shown_stats, served_stats))
    shown_tasks = browser.evaluate(
        "Array.from(document.querySelectorAll('#tasks button')).map(b => b.dataset.run)")
    if shown_tasks != ["tasks/" + t["name"] for t in status["tasks"]]:
        fail("task buttons %s, tasks %s" % (shown_tasks, status["tasks"]))
    shown_runs = browser.evaluate("Array.from(document.querySelectorAll('#history tbody tr')).map(r => Number(r.dataset.id))")
    served_runs = [r["id"] for r in api("/api/v1/history?limit=20")["runs"]]
    if shown_runs != served_runs:
        fail("runs shown %s, served %s" % (shown_runs, served_runs))
    browser.screenshot(os.path.join(SHOTS, "dashboard.png"))

    # Readable on a phone: nothing wider than the screen but the tables, which scroll.
    browser.call("Emulation.setDeviceMetricsOverride",
                 {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
    browser.wait_for("document.documentElement.scrollWidth <= window.innerWidth", 5,
                     "the page to fit a phone's width")
    browser.screenshot(os.path.join(SHOTS, "dashboard-phone.png"))
    browser.call("Emulation.setDeviceMetricsOverride",
                 {"width": 1280, "height": 1000, "deviceScaleFactor": 1, "mobile": False})

    # The run button: the page asks for the token once, then starts the job.
    browser.answer = TOKEN
    browser.click('[data-run="jobs/%s"]' % JOB)
    if len(browser.dialogs) != 1 or browser.dialogs[0]["type"] != "prompt":
        fail("expected one prompt for the token, got %s" % browser.dialogs)
    browser.wait_for("document.getElementById('message').textContent.startsWith('Started ')", 10,
                     "the page to say the run started (it says: %s)" %
                     browser.evaluate("document.getElementById('message').textContent"))
    message = browser.evaluate("document.getElementById('message').textContent")
    if browser.evaluate("sessionStorage.getItem('housekeep-token')") != TOKEN:
        fail("the token is not kept in the session storage")
    run_id = message.split("(")[1].split(")")[0]
    browser.evaluate("1")  # collects what was logged meanwhile
    if browser.errors:
        fail("the page logged errors: %s" % browser.errors)
    print("page said: " + message)
    print(run_id)
finally:
    browser.close()
