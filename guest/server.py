"""The exec channel's guest end: one long-lived server (PID 1 of a lab kernel's guest) that runs
argument arrays for the host over a virtio-serial port, speaking JSON lines.

Requests carry an id; answers and events carry the same id:
  {"id":1,"op":"exec","argv":[...],"input":"...","timeoutMs":60000,"env":{}} -> {"id":1,"stdout":..,"stderr":..,"exitCode":0}
  {"id":2,"op":"start","argv":[...]} -> {"id":2,"pid":n}, {"id":2,"line":".."} and {"id":2,"stderr":"chunk"}..., {"id":2,"exit":code|null}
  {"id":3,"op":"signal","target":2,"signal":"SIGTERM"} -> {"id":3,"ok":true}
  {"id":4,"op":"service","argv":[...],"log":"/path","readyMs":3000} -> {"id":4,"pid":n,"readiness":"ready"|"silent"}
  {"id":5,"op":"ping"} -> {"id":5,"kernel":"5.10.0-32-amd64"}
Once, when the port opens: {"id":null,"hello":"5.10.0-32-amd64"} (the host waiting for the boot hears it at once).
A request that cannot run is answered {"id":n,"error":"..."}. No shell is involved anywhere.
"""
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
write_lock = threading.Lock()
started = {}
port = None


def send(message):
    data = (json.dumps(message) + "\n").encode()
    with write_lock:
        view = memoryview(data)
        while view:
            n = os.write(port, view)
            view = view[n:]


def environment(extra):
    env = {"PATH": PATH, "HOME": "/root", "LANG": "C.UTF-8"}
    env.update(extra or {})
    return env


def run_exec(req):
    try:
        proc = subprocess.Popen(req["argv"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=environment(req.get("env")))
    except OSError as e:
        send({"id": req["id"], "error": "%s: %s" % (req["argv"][0], e.strerror), "enoent": e.errno == 2})
        return
    try:
        out, err = proc.communicate((req.get("input") or "").encode(), timeout=req.get("timeoutMs", 60000) / 1000.0)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        send({"id": req["id"], "error": "timed out after %d ms" % req.get("timeoutMs", 60000)})
        return
    send({"id": req["id"], "stdout": out.decode("utf-8", "replace"), "stderr": err.decode("utf-8", "replace"),
          "exitCode": proc.returncode})


def run_start(req):
    try:
        proc = subprocess.Popen(req["argv"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=environment(req.get("env")))
    except OSError as e:
        send({"id": req["id"], "error": "%s: %s" % (req["argv"][0], e.strerror)})
        return
    started[req["id"]] = proc
    send({"id": req["id"], "pid": proc.pid})
    def forward_stderr():
        for chunk in iter(lambda: os.read(proc.stderr.fileno(), 4096), b""):
            send({"id": req["id"], "stderr": chunk.decode("utf-8", "replace")})

    reader = threading.Thread(target=forward_stderr, daemon=True)
    reader.start()
    for raw in proc.stdout:
        send({"id": req["id"], "line": raw.decode("utf-8", "replace").rstrip("\n")})
    code = proc.wait()
    reader.join(5)
    started.pop(req["id"], None)
    send({"id": req["id"], "exit": code if code >= 0 else None})


def run_service(req):
    r, w = os.pipe()
    log = os.open(req["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def child_setup():
        os.setsid()
        os.dup2(w, 3)

    try:
        # fd 3 must survive close_fds, which runs after preexec_fn: without it docker-proxy's own socket became fd 3,
        # and docker-proxy closed it after writing its readiness there ("recvfrom: bad file descriptor").
        proc = subprocess.Popen(req["argv"], stdin=subprocess.DEVNULL, stdout=log, stderr=log, pass_fds=(3,),
                                preexec_fn=child_setup, env=environment(req.get("env")))
    except OSError as e:
        os.close(r), os.close(w), os.close(log)
        send({"id": req["id"], "error": "%s: %s" % (req["argv"][0], e.strerror)})
        return
    os.close(w)
    os.close(log)
    readiness, outcome = b"", "silent"
    deadline = time.time() + req.get("readyMs", 3000) / 1000.0
    while time.time() < deadline:
        ready, _, _ = select.select([r], [], [], max(0.0, deadline - time.time()))
        if not ready:
            break
        chunk = os.read(r, 4096)
        if not chunk:
            outcome = "exited" if proc.poll() is not None else "silent"
            break
        readiness += chunk
        if readiness.startswith(b"0"):
            outcome = "ready"
            break
        if readiness.startswith(b"1"):
            time.sleep(0.05)
            outcome = "failed"
            break
    os.close(r)
    if proc.poll() is not None and outcome == "silent":
        outcome = "exited"
    threading.Thread(target=proc.wait, daemon=True).start()
    if outcome in ("failed", "exited"):
        send({"id": req["id"], "error": readiness.decode("utf-8", "replace").lstrip("1").strip() or "it exited; see " + req["log"]})
    else:
        send({"id": req["id"], "pid": proc.pid, "readiness": outcome})


def run_signal(req):
    proc = started.get(req.get("target"))
    if proc is not None:
        try:
            proc.send_signal(getattr(signal, req.get("signal", "SIGTERM")))
        except (ProcessLookupError, AttributeError):
            pass
    send({"id": req["id"], "ok": proc is not None})


HANDLERS = {"exec": run_exec, "start": run_start, "service": run_service, "signal": run_signal,
            "ping": lambda req: send({"id": req["id"], "kernel": os.uname().release})}


def handle(line):
    try:
        req = json.loads(line)
        handler = HANDLERS[req["op"]]
    except (ValueError, KeyError, TypeError) as e:
        send({"id": None, "error": "bad request: %s" % e})
        return
    if req["op"] == "ping":
        handler(req)
    else:
        threading.Thread(target=handler, args=(req,), daemon=True).start()


def find_port(name):
    base = "/sys/class/virtio-ports"
    for entry in os.listdir(base):
        with open(os.path.join(base, entry, "name")) as f:
            if f.read().strip() == name:
                return "/dev/" + entry
    raise SystemExit("no virtio port named " + name)


def main():
    global port
    port = os.open(find_port(sys.argv[1] if len(sys.argv) > 1 else "lab.0"), os.O_RDWR)
    # A write blocks until the host end is connected: the hello must not hold up reading requests.
    threading.Thread(target=send, args=({"id": None, "hello": os.uname().release},), daemon=True).start()
    buffered = b""
    while True:
        ready, _, _ = select.select([port], [], [], 1.0)
        if not ready:
            continue
        chunk = os.read(port, 65536)
        if not chunk:
            # the host end is closed between two lab commands; processes it started die with it
            for proc in list(started.values()):
                proc.kill()
            time.sleep(0.2)
            continue
        buffered += chunk
        while b"\n" in buffered:
            line, buffered = buffered.split(b"\n", 1)
            if line.strip():
                handle(line.decode("utf-8", "replace"))


if __name__ == "__main__":
    main()
