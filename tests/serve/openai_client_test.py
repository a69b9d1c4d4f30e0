"""`vista serve` through the official openai client: answers, streams, concurrency, bad input,
limits and SIGTERM."""
import json
import os
import signal
import struct
import subprocess
import threading
import time
import unittest
import zlib

import openai

from served import DATA, MODEL, OUT, VISTA, Server, data_url, questions, user_message


def client_for(server):
    return openai.OpenAI(base_url=server.url + "/v1", api_key="not-needed", max_retries=0, timeout=120)


def answer(client, model, image, text, **kwargs):
    r = client.chat.completions.create(model=model, messages=[user_message(image, text)], **kwargs)
    return r


def png_header_claiming(width, height):
    """A PNG whose header claims width x height pixels, with one tiny IDAT: a decompression bomb's shape."""
    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


class Answers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("answers", "--metrics")
        cls.client = client_for(cls.server)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_greedy_answers_equal_vista_generate_plain_and_streamed(self):
        for image, text in questions(3):
            expected = subprocess.run([VISTA, "--threads", "2", "generate", "--model", MODEL, "--image", image,
                                       "--prompt", text, "--max-new-tokens", "16"],
                                      capture_output=True, text=True, check=True).stdout.strip()
            whole = answer(self.client, self.server.model_id, image, text, temperature=0, max_tokens=16)
            self.assertEqual(whole.choices[0].message.content, expected)
            self.assertIn(whole.choices[0].finish_reason, ("stop", "length"))
            self.assertGreater(whole.usage.prompt_tokens, 576 // 16)  # the image's tokens are counted
            self.assertEqual(whole.usage.total_tokens, whole.usage.prompt_tokens + whole.usage.completion_tokens)

            stream = answer(self.client, self.server.model_id, image, text, temperature=0, max_tokens=16, stream=True,
                            stream_options={"include_usage": True})
            pieces, reasons, usage = [], [], None
            for chunk in stream:
                if chunk.usage:
                    usage = chunk.usage
                for choice in chunk.choices:
                    pieces.append(choice.delta.content or "")
                    if choice.finish_reason:
                        reasons.append(choice.finish_reason)
            self.assertEqual("".join(pieces), expected)
            self.assertEqual(reasons, [whole.choices[0].finish_reason])
            self.assertEqual(usage.completion_tokens, whole.usage.completion_tokens)

    def test_eight_concurrent_clients_get_their_sequential_answers(self):
        asked = questions(8)
        settings = [dict(temperature=0, max_tokens=24), dict(temperature=0.9, top_p=0.95, seed=5, max_tokens=24)]
        for kwargs in settings:
            sequential = [answer(self.client, self.server.model_id, i, t, **kwargs).choices[0].message.content
                          for i, t in asked]
            together = [None] * len(asked)

            def ask(k):
                together[k] = answer(client_for(self.server), self.server.model_id, *asked[k], **kwargs) \
                    .choices[0].message.content
            threads = [threading.Thread(target=ask, args=(k,)) for k in range(len(asked))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(together, sequential, kwargs)

    def test_a_multi_turn_conversation_runs_through_the_template(self):
        image, text = questions(1)[0]
        first = answer(self.client, self.server.model_id, image, text, temperature=0, max_tokens=8)
        second = self.client.chat.completions.create(
            model=self.server.model_id, temperature=0, max_tokens=8,
            messages=[user_message(image, text), {"role": "assistant", "content": first.choices[0].message.content},
                      {"role": "user", "content": "And its shape?"}])
        self.assertGreater(second.usage.prompt_tokens, first.usage.prompt_tokens + 5)

    def test_stop_strings_end_the_answer(self):
        image, text = questions(1)[0]
        full = answer(self.client, self.server.model_id, image, text, temperature=0, max_tokens=16)
        content = full.choices[0].message.content
        self.assertTrue(content, "the demo model answered nothing")
        cut = answer(self.client, self.server.model_id, image, text, temperature=0, max_tokens=16, stop=[content[1:]])
        self.assertEqual(cut.choices[0].message.content, content[:1])
        self.assertEqual(cut.choices[0].finish_reason, "stop")

    def test_bad_inputs_get_their_status_and_an_error_body_and_serving_goes_on(self):
        image, text = questions(1)[0]
        good = {"model": self.server.model_id, "messages": [user_message(image, text)], "temperature": 0,
                "max_tokens": 4}

        def with_(**changes):
            body = json.loads(json.dumps(good))
            body.update(changes)
            return body

        def image_message(url, count=1):
            return [{"role": "user", "content": [{"type": "text", "text": text}] +
                     [{"type": "image_url", "image_url": {"url": url}}] * count}]
        import base64
        bomb = "data:image/png;base64," + base64.b64encode(png_header_claiming(30000, 30000)).decode()
        cases = [
            ("not JSON", b"{not json", 400),
            ("no messages", with_(messages=[]), 400),
            ("unknown model", with_(model="gpt-9"), 404),
            ("remote image", with_(messages=image_message("https://example.com/cat.png")), 400),
            ("file:// without a media folder", with_(messages=image_message("file://" + image)), 400),
            ("bad base64", with_(messages=image_message("data:image/png;base64,@@@@")), 400),
            ("not an image", with_(messages=image_message("data:image/png;base64,aGVsbG8gd29ybGQ=")), 400),
            ("decompression bomb", with_(messages=image_message(bomb)), 400),
            ("two images, one allowed", with_(messages=image_message(data_url(image), 2)), 400),
            ("past the context", with_(max_tokens=10 ** 7), 400),
            ("temperature 5", with_(temperature=5), 400),
        ]
        for name, body, status in cases:
            code, text_body = self.server.post("/v1/chat/completions", body)
            self.assertEqual(code, status, name)
            error = json.loads(text_body)["error"]
            self.assertTrue(error["message"], name)
            self.assertIn("type", error, name)
            self.assertEqual(self.server.post("/v1/chat/completions", good)[0], 200, "after " + name)
        self.assertIn("exceeds the limit", json.loads(self.server.post("/v1/chat/completions",
                                                                       with_(messages=image_message(bomb)))[1])
                      ["error"]["message"])
        context_error = json.loads(self.server.post("/v1/chat/completions", with_(max_tokens=10 ** 7))[1])["error"]
        self.assertIn("context", context_error["message"])
        code, body = self.server.get("/no/such/route")
        self.assertEqual(code, 404)
        self.assertIn("error", json.loads(body))
        with self.assertRaises(openai.NotFoundError):
            answer(self.client, "gpt-9", image, text)

    def test_health_models_and_metrics(self):
        self.assertEqual(json.loads(self.server.get("/health")[1])["status"], "ok")
        models = json.loads(self.server.get("/v1/models")[1])
        self.assertEqual(models["data"][0]["id"], self.client.models.list().data[0].id)
        answer(self.client, self.server.model_id, *questions(1)[0], temperature=0, max_tokens=4)
        code, metrics = self.server.get("/metrics")
        self.assertEqual(code, 200)
        for name in ("vista_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"}",
                     "vista_completion_tokens_total", "vista_queue_depth", "vista_request_seconds_bucket",
                     "vista_time_to_first_token_seconds_count"):
            self.assertIn(name, metrics)


class Limits(unittest.TestCase):
    def test_an_oversized_body_is_413_and_a_full_queue_503(self):
        server = Server("limits", "--max-body-mb", "1", "--max-batch", "1", "--max-queue", "1")
        try:
            image, text = questions(1)[0]
            code, body = server.post("/v1/chat/completions", {"messages": [{"role": "user", "content": "x" * (2 << 20)}]})
            self.assertEqual(code, 413)
            self.assertIn("error", json.loads(body))
            # Twelve at once against one running slot and one queue place: some must be turned away.
            statuses = [None] * 12
            long_text = "Describe everything you see in great detail. " * 20 + text

            def ask(k):
                statuses[k] = server.post("/v1/chat/completions", {
                    "messages": [user_message(image, long_text)], "max_tokens": 48, "temperature": 1.0, "seed": k})
            threads = [threading.Thread(target=ask, args=(k,)) for k in range(12)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            codes = sorted(s[0] for s in statuses)
            self.assertIn(503, codes)
            self.assertIn(200, codes)
            self.assertEqual(set(codes), {200, 503})
            for code, body in statuses:
                if code == 503:
                    self.assertIn("queue", json.loads(body)["error"]["message"])
            self.assertEqual(server.post("/v1/chat/completions", {"messages": [user_message(image, text)],
                                                                  "max_tokens": 2})[0], 200)
        finally:
            server.stop()

    def test_a_request_past_its_timeout_is_504(self):
        server = Server("timeout", "--request-timeout", "0.001")
        try:
            image, text = questions(1)[0]
            code, body = server.post("/v1/chat/completions", {"messages": [user_message(image, text)], "max_tokens": 8})
            self.assertEqual(code, 504)
            self.assertIn("timeout", json.loads(body)["error"]["message"])
        finally:
            server.stop()


class Startup(unittest.TestCase):
    def run_serve(self, *flags):
        return subprocess.run([VISTA, "--threads", "1", "serve", "--port", "0", *flags], capture_output=True, text=True,
                              timeout=120)

    def test_a_bad_limit_is_refused_with_its_flag_named(self):
        done = self.run_serve("--model", MODEL, "--max-body-mb", "0")
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertIn("--max-body-mb must be positive", done.stderr)
        self.assertNotIn("listening on", done.stdout)

    def test_a_model_that_does_not_load_ends_the_server_with_the_reason(self):
        broken = os.path.join(OUT, "broken-model")
        os.makedirs(broken, exist_ok=True)
        with open(os.path.join(broken, "config.json"), "w") as f:
            f.write("{\"model_type\": \"llava\", ")  # cut off mid-file
        done = self.run_serve("--model", broken)
        self.assertTrue(done.stdout.startswith("listening on "), done.stdout)
        self.assertNotIn("ready", done.stdout)
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertRegex(done.stderr, "error: " + broken + "/[a-z_]+\\.json: ")  # names the file at fault


def requests_seen(server):
    """Chat requests the server holds (queued or decoding) or has answered, from /metrics."""
    total = 0
    for line in server.get("/metrics")[1].splitlines():
        if line.startswith(("vista_queue_depth ", "vista_running_sequences ",
                            'vista_requests_total{endpoint="/v1/chat/completions"')):
            total += int(float(line.split()[-1]))
    return total


class Shutdown(unittest.TestCase):
    def test_sigterm_finishes_the_streams_in_flight(self):
        server = Server("sigterm", "--max-batch", "1", "--metrics")
        client = client_for(server)
        asked = (questions(16) * 2)[:16]  # one at a time: most wait in the queue when the signal comes
        results = [None] * len(asked)
        first_chunk = threading.Event()

        def stream(k):
            pieces, reasons = [], []
            for chunk in client.chat.completions.create(model=server.model_id, messages=[user_message(*asked[k])],
                                                        temperature=0, max_tokens=256, stream=True,
                                                        extra_body={"ignore_eos": True}):
                first_chunk.set()
                for choice in chunk.choices:
                    pieces.append(choice.delta.content or "")
                    if choice.finish_reason:
                        reasons.append(choice.finish_reason)
            results[k] = ("".join(pieces), reasons)
        threads = [threading.Thread(target=stream, args=(k,)) for k in range(len(asked))]
        for t in threads:
            t.start()
        self.assertTrue(first_chunk.wait(60))
        # Every request must have reached the server before the signal: one still connecting would
        # rightly be refused (503), which is not what this test is about. 16 x 256 tokens one at a
        # time keep most of them queued meanwhile.
        deadline = time.time() + 60
        while requests_seen(server) < len(asked):
            self.assertLess(time.time(), deadline, "the requests never all reached the server")
            time.sleep(0.01)
        server.process.send_signal(signal.SIGTERM)
        for t in threads:
            t.join(120)
        self.assertEqual(server.process.wait(timeout=60), 0)
        server.stop()
        for k, result in enumerate(results):
            self.assertIsNotNone(result, f"stream {k} did not finish")
            self.assertEqual(len(result[1]), 1, f"stream {k} has no finish_reason")
        with open(server.log_path) as log:
            after_signal = log.read().split("finishing the requests in flight")
        self.assertEqual(len(after_signal), 2, "no drain message")
        self.assertIn("200 (stream)", after_signal[1], "nothing was in flight when the signal came")


if __name__ == "__main__":
    unittest.main()
