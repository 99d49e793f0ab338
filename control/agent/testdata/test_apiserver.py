#!/usr/bin/python3
"""A small Kubernetes API server for nodeplane-agent's protocol tests: list (paged) and watch
(chunked JSON lines) of any collection path, with resourceVersions, bookmarks, 410 Gone, malformed
events, streams cut mid-object, dropped connections, errors and garbage on demand, bearer-token and
client-certificate checks, HTTP or HTTPS.

Driven over stdin/stdout, one JSON command per line, one JSON reply per line:
  {"op": "upsert", "path": "/api/v1/pods", "object": {...}}       event ADDED or MODIFIED
  {"op": "delete", "path": ..., "key": "ns/name"}                  event DELETED
  {"op": "delete_silently", "path": ..., "key": ...}               no event (lost in a compaction)
  {"op": "bookmark", "path": ...}                                  BOOKMARK to open watches
  {"op": "compact"}                                                older resourceVersions → 410
  {"op": "gone_as_http", "value": true}                            410 as HTTP status, not ERROR event
  {"op": "drop"}                                                   close every open watch abruptly
  {"op": "raw", "path": ..., "text": "...", "then_drop": true}     bytes into open watches
  {"op": "fail", "count": N, "status": 500, "body": "..."}         next N API requests answered so
  {"op": "token", "value": "..."}                                  the bearer token required ("" = none)
  {"op": "requests"}                                               what was asked so far
  {"op": "watchers", "path": ...}                                  number of open watches
Prints {"port": N} once listening. Options: --tls CERT KEY, --client-ca CA (requires a client cert).
"""
import json
import select
import socket
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

LOCK = threading.Condition()
STATE = {
    "rv": 100,            # last resourceVersion handed out
    "compacted": 0,       # watches from a resourceVersion below this get 410
    "gone_as_http": False,
    "collections": {},    # path -> {key: object}
    "history": {},        # path -> [(rv, type, object)]
    "watchers": [],       # open watches
    "fail": [],           # queued (status, body)
    "token": "",
    "requests": [],
}


def key_of(obj):
    meta = obj.get("metadata", {})
    ns = meta.get("namespace")
    return f"{ns}/{meta['name']}" if ns else meta["name"]


def kind_of_list(path):
    return {"pods": "PodList", "services": "ServiceList", "namespaces": "NamespaceList",
            "nodes": "NodeList", "endpointslices": "EndpointSliceList",
            "networkpolicies": "NetworkPolicyList"}.get(path.rsplit("/", 1)[-1], "List")


class Watcher:
    def __init__(self, path):
        self.path = path
        self.queue = []      # bytes to send, or None = close abruptly
        self.closed = False


def record(path, etype, obj):
    STATE["rv"] += 1
    rv = str(STATE["rv"])
    obj = json.loads(json.dumps(obj))
    obj.setdefault("metadata", {})["resourceVersion"] = rv
    STATE["history"].setdefault(path, []).append((STATE["rv"], etype, obj))
    line = (json.dumps({"type": etype, "object": obj}) + "\n").encode()
    for w in STATE["watchers"]:
        if w.path == path:
            w.queue.append(line)
    LOCK.notify_all()
    return obj


def command(cmd):
    op = cmd["op"]
    with LOCK:
        if op == "upsert":
            coll = STATE["collections"].setdefault(cmd["path"], {})
            key = key_of(cmd["object"])
            etype = "MODIFIED" if key in coll else "ADDED"
            coll[key] = record(cmd["path"], etype, cmd["object"])
            return {"rv": coll[key]["metadata"]["resourceVersion"]}
        if op == "delete":
            obj = STATE["collections"].get(cmd["path"], {}).pop(cmd["key"])
            record(cmd["path"], "DELETED", obj)
            return {"rv": str(STATE["rv"])}
        if op == "delete_silently":
            STATE["collections"].get(cmd["path"], {}).pop(cmd["key"])
            STATE["rv"] += 1
            return {"rv": str(STATE["rv"])}
        if op == "bookmark":
            STATE["rv"] += 1
            line = json.dumps({"type": "BOOKMARK", "object": {
                "kind": "Pod", "apiVersion": "v1",
                "metadata": {"resourceVersion": str(STATE["rv"])}}}) + "\n"
            for w in STATE["watchers"]:
                if w.path == cmd["path"]:
                    w.queue.append(line.encode())
            LOCK.notify_all()
            return {"rv": str(STATE["rv"])}
        if op == "compact":
            STATE["compacted"] = STATE["rv"]
            STATE["history"] = {}
            return {"compacted": STATE["compacted"]}
        if op == "gone_as_http":
            STATE["gone_as_http"] = cmd["value"]
            return {}
        if op == "drop":
            for w in STATE["watchers"]:
                w.queue.append(None)
            LOCK.notify_all()
            return {"dropped": len(STATE["watchers"])}
        if op == "raw":
            n = 0
            for w in STATE["watchers"]:
                if w.path == cmd["path"]:
                    w.queue.append(cmd["text"].encode())
                    if cmd.get("then_drop"):
                        w.queue.append(None)
                    n += 1
            LOCK.notify_all()
            return {"watchers": n}
        if op == "fail":
            STATE["fail"] += [(cmd["status"], cmd.get("body", ""))] * cmd["count"]
            return {}
        if op == "token":
            STATE["token"] = cmd["value"]
            return {}
        if op == "requests":
            return {"requests": STATE["requests"]}
        if op == "watchers":
            return {"count": sum(1 for w in STATE["watchers"] if w.path == cmd["path"])}
    return {"error": f"unknown op {op}"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_body(self, status, body, ctype="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def status_body(self, code, reason, message):
        return json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                           "message": message, "reason": reason, "code": code})

    def do_GET(self):
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        auth = self.headers.get("Authorization", "")
        with LOCK:
            STATE["requests"].append({"path": url.path, "query": q, "auth": auth})
            token = STATE["token"]
            failure = STATE["fail"].pop(0) if STATE["fail"] else None
        if token and auth != f"Bearer {token}":
            return self.send_body(401, self.status_body(401, "Unauthorized", "Unauthorized"))
        if failure:
            return self.send_body(failure[0], failure[1], "text/plain")
        if q.get("watch") in ("1", "true"):
            return self.watch(url.path, q)
        with LOCK:
            items = sorted(STATE["collections"].get(url.path, {}).items())
            rv = str(STATE["rv"])
        start = int(q.get("continue") or 0)
        limit = int(q.get("limit") or 0) or len(items) or 1
        page = [obj for _, obj in items[start:start + limit]]
        meta = {"resourceVersion": rv}
        if start + limit < len(items):
            meta["continue"] = str(start + limit)
        self.send_body(200, json.dumps({"kind": kind_of_list(url.path), "apiVersion": "v1",
                                        "metadata": meta, "items": page}))

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def watch(self, path, q):
        since = int(q.get("resourceVersion") or 0)
        timeout = float(q.get("timeoutSeconds") or 300)
        with LOCK:
            if since and since < STATE["compacted"]:
                msg = f"too old resource version: {since} ({STATE['compacted']})"
                if STATE["gone_as_http"]:
                    body = self.status_body(410, "Expired", msg)
                    return self.send_body(410, body)
                gone = json.dumps({"type": "ERROR", "object": json.loads(
                    self.status_body(410, "Expired", msg))}) + "\n"
                backlog = [gone.encode()]
            else:
                backlog = [(json.dumps({"type": t, "object": o}) + "\n").encode()
                           for rv, t, o in STATE["history"].get(path, []) if rv > since]
            w = Watcher(path)
            w.queue = backlog
            STATE["watchers"].append(w)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        import time
        deadline = time.monotonic() + timeout
        try:
            while True:
                with LOCK:
                    while not w.queue and time.monotonic() < deadline:
                        LOCK.wait(0.1)
                        if self.client_gone():
                            return
                    items, w.queue = w.queue, []
                if not items:
                    self.wfile.write(b"0\r\n\r\n")   # the server's watch timeout: a clean end
                    self.wfile.flush()
                    return
                for item in items:
                    if item is None:
                        self.close_abruptly()
                        return
                    self.chunk(item)
                    if b'"type": "ERROR"' in item:
                        self.wfile.write(b"0\r\n\r\n")
                        self.wfile.flush()
                        return
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass
        finally:
            with LOCK:
                STATE["watchers"].remove(w)

    def client_gone(self):
        """True once the client closed its end (so open-watch counts stay exact)."""
        if isinstance(self.connection, ssl.SSLSocket):
            return False
        r, _, _ = select.select([self.connection], [], [], 0)
        if not r:
            return False
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def close_abruptly(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def main():
    args = sys.argv[1:]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if "--tls" in args:
        i = args.index("--tls")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args[i + 1], args[i + 2])
        if "--client-ca" in args:
            ctx.load_verify_locations(args[args.index("--client-ca") + 1])
            ctx.verify_mode = ssl.CERT_REQUIRED
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    for line in sys.stdin:
        if line.strip():
            try:
                reply = command(json.loads(line))
            except Exception as e:  # a test's mistake: say so instead of hanging it
                reply = {"error": repr(e)}
            print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
