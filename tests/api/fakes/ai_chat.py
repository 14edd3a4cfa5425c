"""A local stand-in for an OpenAI-compatible chat completions endpoint, for
POST /api/ai/generate-tags (src/svc/tagger.c, AI_TAGS_URL).

    fake = FakeChat()        # AI_TAGS_URL=fake.url
    fake.mode = "ok"         # answer fake.tags as the message content
    fake.mode = "garbage"    # a prose answer, not a JSON list
    fake.mode = "bad_items"  # a JSON list with a non-string and a long item
    fake.mode = "not_json"   # a 200 whose body is not JSON
    fake.mode = "hang"       # hold the request for fake.hang_s seconds
    fake.stop()

.calls holds (path, Authorization header, parsed request body)."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeChat:
    def __init__(self):
        self.mode = "ok"
        self.tags = ["Wooden Chair", "furniture", "oak"]
        self.hang_s = 10
        self.calls = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                with fake.lock:
                    fake.calls.append((self.path, self.headers.get("Authorization"), body))
                mode = fake.mode
                if mode == "hang":
                    time.sleep(fake.hang_s)
                    return
                if mode == "not_json":
                    out = b"<html>busy</html>"
                else:
                    content = {"ok": json.dumps(fake.tags),
                               "garbage": "Sure! Here are some tags: chair, wood, cozy",
                               "bad_items": json.dumps(["chair", 42, "x" * 80])}[mode]
                    out = json.dumps({"id": "chatcmpl-1", "object": "chat.completion",
                                      "choices": [{"index": 0, "finish_reason": "stop",
                                                   "message": {"role": "assistant", "content": content}}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/chat/completions"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
