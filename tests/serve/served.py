"""Starting `vista serve` for a test and the shapes questions to ask it."""
import base64
import json
import os
import subprocess
import time
import urllib.error
import urllib.request

VISTA = os.environ["VISTA"]
MODEL = os.environ["MODEL"]
DATA = os.environ["DATA"]
OUT = os.environ["OUT"]


class Server:
    """`vista serve` on a free loopback port, ready when constructed."""

    def __init__(self, name, *flags):
        self.log_path = os.path.join(OUT, name + ".log")
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [VISTA, "--threads", "2", "serve", "--model", MODEL, "--port", "0", *flags],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.process.stdout.readline()
        if not line.startswith("listening on "):
            raise RuntimeError(f"vista serve did not start: {line!r}; see {self.log_path}")
        self.url = line.split()[-1]
        deadline = time.time() + 120
        while self.get("/health")[0] != 200:
            if time.time() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"vista serve never became healthy; see {self.log_path}")
            time.sleep(0.1)
        self.model_id = json.loads(self.get("/v1/models")[1])["data"][0]["id"]

    def get(self, path):
        try:
            with urllib.request.urlopen(self.url + path, timeout=60) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
        except (urllib.error.URLError, ConnectionError):
            return 0, ""

    def post(self, path, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, headers={"Content-Type": content_type})
        try:
            with urllib.request.urlopen(request, timeout=120) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)
        self.process.stdout.close()
        self.log.close()


def questions(limit):
    """(image path, question) pairs from the shapes eval set, with and without preambles."""
    out = []
    with open(os.path.join(DATA, "eval.jsonl")) as f:
        for line in f:
            q = json.loads(line)
            out.append((os.path.join(DATA, "images", q["image"]), q["text"]))
            if len(out) == limit:
                break
    return out


def data_url(path):
    with open(path, "rb") as f:
        return "data:image/png;base64," + base64.b64encode(f.read()).decode()


def user_message(image, text):
    return {"role": "user", "content": [{"type": "text", "text": text},
                                         {"type": "image_url", "image_url": {"url": data_url(image)}}]}
