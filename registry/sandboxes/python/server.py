"""
python_sandbox: an MCP server (stdio) with one tool that runs Python code.

Standard library only. It speaks newline-delimited JSON-RPC 2.0 on stdin/stdout, as the MCP
stdio transport defines; nothing else is ever written to stdout (diagnostics go to stderr).

Each call of the tool:
  * makes a fresh session folder under /tmp with a working directory for the code, writes the
    input files (`files`) there, and runs the code in a new process (runner.py) with a clean
    environment, matplotlib's Agg backend, and limits on time, memory and CPU;
  * kills the code (its whole process group) when it runs longer than `timeout_seconds`;
  * keeps the first 64 KiB of stdout and of stderr, saying how much more there was;
  * returns a text block (exit code, stdout, stderr), one PNG image per matplotlib figure the
    code left open, and the files listed in `return_files`;
  * removes the session folder.

Where the code runs is the container mcp-router starts for the call: no network, read-only
root filesystem, a size-limited /tmp, memory, pids and time limits, no capabilities, user
65534. The limits here come on top of those, so that running out of time or memory ends the
code with a clear message instead of taking the server down with it.
"""

import base64
import json
import mimetypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

SERVER_INFO = {"name": "python-sandbox", "title": "Python sandbox", "version": "1.0.0"}

# MCP protocol versions this server speaks, newest first. It answers `initialize` with the
# client's version when it is one of these, else with the newest.
PROTOCOL_VERSIONS = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "runner.py")
# matplotlib's font cache, built when the image was built; copied into each session so the
# first plot does not spend seconds scanning fonts.
MPL_CACHE = os.path.join(HERE, "mplconfig")


def env_int(name, default):
    """An integer setting from the environment (the image's Dockerfile may set these)."""
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


# ---- limits ---------------------------------------------------------------------------------
DEFAULT_TIMEOUT_SECONDS = env_int("SANDBOX_DEFAULT_TIMEOUT", 30)
MAX_TIMEOUT_SECONDS = env_int("SANDBOX_MAX_TIMEOUT", 120)
OUTPUT_LIMIT_BYTES = env_int("SANDBOX_OUTPUT_LIMIT", 64 * 1024)  # per stream: stdout, stderr
MAX_CODE_BYTES = 1024 * 1024
MAX_INPUT_FILES = 50
MAX_INPUT_BYTES = 32 * 1024 * 1024  # all input files together, decoded
MAX_FIGURES = 20
MAX_FIGURE_BYTES = 5 * 1024 * 1024
MAX_RETURN_FILES = 20
MAX_RETURN_FILE_BYTES = 10 * 1024 * 1024
MAX_RETURN_TOTAL_BYTES = 20 * 1024 * 1024
# Address space of the code in bytes; 0 (the default) means "the container's memory limit".
# RLIMIT_AS counts virtual memory, which is larger than what is really used, so it is never set
# below MIN_ADDRESS_SPACE_BYTES: numpy and friends reserve a lot that they never touch.
MEMORY_LIMIT_BYTES = env_int("SANDBOX_MEMORY_LIMIT", 0)
MIN_ADDRESS_SPACE_BYTES = 1024 * 1024 * 1024

TOOL = {
    "name": "python_sandbox",
    "title": "Python sandbox",
    "description": (
        "Run Python 3 code in a fresh, isolated sandbox with pandas, numpy, scipy, matplotlib and "
        "scikit-learn installed, and no network. Returns the exit code, stdout and stderr; every "
        "matplotlib figure left open at the end as a PNG image (no need to call plt.show() or "
        "savefig); and the files named in return_files. Input files given in `files` are written to "
        "the working directory first. Nothing persists between calls."
    ),
    "inputSchema": {
        "type": "object",
        "properties": {
            "code": {
                "type": "string",
                "description": "Python 3 source, run as a script (__main__) in the working directory. Use print() for results.",
            },
            "files": {
                "type": "object",
                "description": "Input files written to the working directory before the code runs: relative path -> {text} or {base64}.",
                "additionalProperties": {
                    "type": "object",
                    "properties": {
                        "text": {"type": "string", "description": "File content as UTF-8 text."},
                        "base64": {"type": "string", "description": "File content, base64-encoded (for binary files)."},
                    },
                    "additionalProperties": False,
                },
            },
            "return_files": {
                "type": "array",
                "items": {"type": "string"},
                "maxItems": MAX_RETURN_FILES,
                "description": "Paths, relative to the working directory, of files the code writes that should be returned.",
            },
            "timeout_seconds": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": MAX_TIMEOUT_SECONDS,
                "default": DEFAULT_TIMEOUT_SECONDS,
                "description": "Wall-clock limit for the code, in seconds (default %d, at most %d)." % (DEFAULT_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS),
            },
        },
        "required": ["code"],
        "additionalProperties": False,
    },
    "annotations": {"title": "Python sandbox", "readOnlyHint": True, "openWorldHint": False},
}


def log(message):
    """Diagnostics go to stderr: stdout carries the protocol only."""
    print("python-sandbox: %s" % message, file=sys.stderr, flush=True)


# ---- JSON-RPC -------------------------------------------------------------------------------
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603


class RpcError(Exception):
    """Becomes a JSON-RPC error response."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


_stdout_lock = threading.Lock()


def send(message):
    """Writes one JSON-RPC message as one line on stdout."""
    line = json.dumps(message, separators=(",", ":"))
    with _stdout_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def error_response(request_id, code, message):
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


# ---- running code ---------------------------------------------------------------------------
class CappedReader(threading.Thread):
    """Drains a pipe to its end, keeping only the first `limit` bytes (and counting the rest)."""

    def __init__(self, pipe, limit):
        super().__init__(daemon=True)
        self.pipe = pipe
        self.limit = limit
        self.kept = bytearray()
        self.total = 0

    def run(self):
        try:
            while True:
                chunk = self.pipe.read1(65536) if hasattr(self.pipe, "read1") else self.pipe.read(65536)
                if not chunk:
                    break
                self.total += len(chunk)
                room = self.limit - len(self.kept)
                if room > 0:
                    self.kept += chunk[:room]
        except (OSError, ValueError):
            pass

    def text(self):
        """The kept bytes as text, with a marker when output was cut."""
        text = bytes(self.kept).decode("utf-8", errors="replace")
        if self.total > len(self.kept):
            text += "\n[... output truncated: %d more bytes not shown (limit %d bytes)]" % (self.total - len(self.kept), self.limit)
        return text


def container_memory_limit():
    """The memory limit of this container's cgroup (v2 or v1) in bytes, or None."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as f:
                value = f.read().strip()
        except OSError:
            continue
        if value.isdigit() and int(value) < 1 << 60:
            return int(value)
    return None


def address_space_limit():
    """What the runner caps the code's address space at (0: no cap)."""
    limit = MEMORY_LIMIT_BYTES or container_memory_limit() or 0
    return max(limit, MIN_ADDRESS_SPACE_BYTES) if limit else 0


def safe_relative_path(name, what):
    """A relative, normalized path that stays inside the working directory, or an RpcError."""
    if not isinstance(name, str) or not name or "\0" in name:
        raise RpcError(INVALID_PARAMS, "%s: %r is not a file name" % (what, name))
    normalized = os.path.normpath(name)
    if os.path.isabs(name) or normalized == "." or normalized.startswith(".." + os.sep) or normalized == "..":
        raise RpcError(INVALID_PARAMS, "%s: %r must be a relative path inside the working directory" % (what, name))
    return normalized


def decode_input_files(files):
    """Validates the `files` argument; returns [(relative path, bytes)]."""
    if files is None:
        return []
    if not isinstance(files, dict):
        raise RpcError(INVALID_PARAMS, "files must be an object: relative path -> {text} or {base64}")
    if len(files) > MAX_INPUT_FILES:
        raise RpcError(INVALID_PARAMS, "files: at most %d files" % MAX_INPUT_FILES)
    decoded = []
    total = 0
    for name, spec in files.items():
        path = safe_relative_path(name, "files")
        if not isinstance(spec, dict) or len(spec) != 1 or not ({"text", "base64"} & set(spec)):
            raise RpcError(INVALID_PARAMS, "files[%r] must be {\"text\": ...} or {\"base64\": ...}" % name)
        if "text" in spec:
            if not isinstance(spec["text"], str):
                raise RpcError(INVALID_PARAMS, "files[%r].text must be a string" % name)
            data = spec["text"].encode("utf-8")
        else:
            try:
                data = base64.b64decode(spec["base64"], validate=True)
            except (TypeError, ValueError):
                raise RpcError(INVALID_PARAMS, "files[%r].base64 is not valid base64" % name) from None
        total += len(data)
        if total > MAX_INPUT_BYTES:
            raise RpcError(INVALID_PARAMS, "files: more than %d bytes in all" % MAX_INPUT_BYTES)
        decoded.append((path, data))
    return decoded


def parse_arguments(arguments):
    """Checks the tool's arguments; returns (code, files, return_files, timeout)."""
    if not isinstance(arguments, dict):
        raise RpcError(INVALID_PARAMS, "arguments must be an object")
    unknown = set(arguments) - set(TOOL["inputSchema"]["properties"])
    if unknown:
        raise RpcError(INVALID_PARAMS, "unknown argument(s): %s" % ", ".join(sorted(unknown)))
    code = arguments.get("code")
    if not isinstance(code, str):
        raise RpcError(INVALID_PARAMS, "code is required and must be a string")
    if len(code.encode("utf-8")) > MAX_CODE_BYTES:
        raise RpcError(INVALID_PARAMS, "code is longer than %d bytes" % MAX_CODE_BYTES)
    files = decode_input_files(arguments.get("files"))
    return_files = arguments.get("return_files", [])
    if not isinstance(return_files, list) or not all(isinstance(p, str) for p in return_files):
        raise RpcError(INVALID_PARAMS, "return_files must be a list of paths")
    if len(return_files) > MAX_RETURN_FILES:
        raise RpcError(INVALID_PARAMS, "return_files: at most %d files" % MAX_RETURN_FILES)
    return_files = [safe_relative_path(p, "return_files") for p in return_files]
    timeout = arguments.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise RpcError(INVALID_PARAMS, "timeout_seconds must be a positive number")
    return code, files, return_files, min(float(timeout), float(MAX_TIMEOUT_SECONDS))


def child_environment(session, work):
    """The code's whole environment: nothing of the server's leaks in."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": work,
        "TMPDIR": os.path.join(session, "tmp"),
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": os.path.join(session, "mpl"),
        # One thread per math library: the container has a CPU quota, and thread pools sized to
        # the host's cores only add overhead and virtual memory.
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def kill_group(process):
    """SIGKILL to the code and everything it started (it runs in its own process group)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def describe_exit(returncode, timed_out, timeout, memory_limit):
    """The first line of the result: how the code ended."""
    if timed_out:
        return "timed out after %g s: the code was killed (raise timeout_seconds, at most %d, if it needs longer)" % (timeout, MAX_TIMEOUT_SECONDS)
    if returncode >= 0:
        return "exit code: %d" % returncode
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = "signal %d" % -returncode
    if -returncode == signal.SIGKILL:
        return "exit code: %d (killed by %s, most likely out of memory; the limit is about %d MiB)" % (returncode, name, memory_limit // (1024 * 1024))
    if -returncode == signal.SIGXCPU:
        return "exit code: %d (killed by %s: CPU time limit exceeded)" % (returncode, name)
    return "exit code: %d (killed by %s)" % (returncode, name)


def collect_figures(figures_dir, notes):
    """The PNG files the runner saved, as MCP image content."""
    content = []
    names = sorted(n for n in os.listdir(figures_dir) if n.endswith(".png")) if os.path.isdir(figures_dir) else []
    for name in names:
        if len(content) >= MAX_FIGURES:
            notes.append("only the first %d of %d figures are returned" % (MAX_FIGURES, len(names)))
            break
        path = os.path.join(figures_dir, name)
        size = os.path.getsize(path)
        if size > MAX_FIGURE_BYTES:
            notes.append("%s is %d bytes, more than the %d allowed; not returned" % (name, size, MAX_FIGURE_BYTES))
            continue
        with open(path, "rb") as f:
            content.append({"type": "image", "mimeType": "image/png", "data": base64.b64encode(f.read()).decode("ascii")})
    return content


def collect_files(work, return_files, notes):
    """The requested result files, as MCP embedded resources (text when UTF-8, else a base64 blob)."""
    content = []
    total = 0
    real_work = os.path.realpath(work)
    for rel in return_files:
        path = os.path.realpath(os.path.join(work, rel))
        if path != real_work and not path.startswith(real_work + os.sep):
            notes.append("%s points outside the working directory; not returned" % rel)
            continue
        if not os.path.isfile(path):
            notes.append("%s was not found (or is not a regular file); not returned" % rel)
            continue
        size = os.path.getsize(path)
        if size > MAX_RETURN_FILE_BYTES or total + size > MAX_RETURN_TOTAL_BYTES:
            notes.append("%s is %d bytes; over the limit (%d per file, %d in all); not returned" % (rel, size, MAX_RETURN_FILE_BYTES, MAX_RETURN_TOTAL_BYTES))
            continue
        total += size
        with open(path, "rb") as f:
            data = f.read()
        mime = mimetypes.guess_type(rel)[0]
        resource = {"uri": "sandbox:///" + rel.replace(os.sep, "/")}
        try:
            text = data.decode("utf-8")
            if "\0" in text:
                raise UnicodeDecodeError("utf-8", data, 0, 1, "NUL byte")
            resource.update({"mimeType": mime or "text/plain", "text": text})
        except UnicodeDecodeError:
            resource.update({"mimeType": mime or "application/octet-stream", "blob": base64.b64encode(data).decode("ascii")})
        content.append({"type": "resource", "resource": resource})
    return content


def format_stream(label, reader):
    text = reader.text()
    if not text:
        return "--- %s: (empty) ---" % label
    return "--- %s ---\n%s%s" % (label, text, "" if text.endswith("\n") else "\n")


def run_python(arguments):
    """The python_sandbox tool: returns a CallToolResult."""
    code, files, return_files, timeout = parse_arguments(arguments)
    session = tempfile.mkdtemp(prefix="sandbox-", dir="/tmp" if os.path.isdir("/tmp") else None)
    try:
        work = os.path.join(session, "work")
        figures_dir = os.path.join(session, "figures")
        for sub in (work, figures_dir, os.path.join(session, "tmp")):
            os.makedirs(sub)
        if os.path.isdir(MPL_CACHE):
            shutil.copytree(MPL_CACHE, os.path.join(session, "mpl"))
        for rel, data in files:
            target = os.path.join(work, rel)
            try:
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as f:
                    f.write(data)
            except OSError as error:  # e.g. "a" and "a/b" both given, or /tmp is full
                raise RpcError(INVALID_PARAMS, "files: cannot write %r: %s" % (rel, error.strerror or error)) from None
        code_path = os.path.join(session, "code.py")
        with open(code_path, "w", encoding="utf-8") as f:
            f.write(code)

        memory_limit = address_space_limit()
        cpu_seconds = int(timeout) + 5  # a backstop for the wall-clock limit below
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-u", RUNNER, code_path, figures_dir, str(memory_limit), str(cpu_seconds)],
            cwd=work,
            env=child_environment(session, work),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group, so a timeout kills everything it started
            close_fds=True,
        )
        readers = [CappedReader(process.stdout, OUTPUT_LIMIT_BYTES), CappedReader(process.stderr, OUTPUT_LIMIT_BYTES)]
        for reader in readers:
            reader.start()
        timed_out = False
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            kill_group(process)
            process.wait()
        # Processes the code left running in the background would keep the pipes open.
        kill_group(process)
        for reader in readers:
            reader.join(timeout=5)
        elapsed = time.monotonic() - started

        notes = []
        figures = collect_figures(figures_dir, notes)
        result_files = collect_files(work, return_files, notes)
        lines = [describe_exit(process.returncode, timed_out, timeout, memory_limit or container_memory_limit() or 0), format_stream("stdout", readers[0]), format_stream("stderr", readers[1])]
        summary = "ran for %.2f s" % elapsed
        if figures:
            summary += "; %d figure(s) returned as PNG images" % len(figures)
        if result_files:
            summary += "; %d file(s) returned" % len(result_files)
        lines.append(summary)
        lines.extend("note: " + note for note in notes)
        return {
            "content": [{"type": "text", "text": "\n".join(lines)}] + figures + result_files,
            "isError": timed_out or process.returncode != 0,
        }
    finally:
        shutil.rmtree(session, ignore_errors=True)


# ---- MCP methods ----------------------------------------------------------------------------
def initialize(params):
    requested = params.get("protocolVersion") if isinstance(params, dict) else None
    version = requested if requested in PROTOCOL_VERSIONS else PROTOCOL_VERSIONS[0]
    return {
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": False}},
        "serverInfo": SERVER_INFO,
        "instructions": "python_sandbox runs Python code with pandas, numpy, scipy, matplotlib and scikit-learn, without network; each call starts from scratch.",
    }


def tools_list(params):
    return {"tools": [TOOL]}


def tools_call(params):
    if not isinstance(params, dict):
        raise RpcError(INVALID_PARAMS, "params must be an object")
    name = params.get("name")
    if name != TOOL["name"]:
        raise RpcError(INVALID_PARAMS, "unknown tool: %r (this server has only %s)" % (name, TOOL["name"]))
    return run_python(params.get("arguments", {}))


METHODS = {
    "initialize": initialize,
    "ping": lambda params: {},
    "tools/list": tools_list,
    "tools/call": tools_call,
}


def handle(message):
    """Handles one JSON-RPC message; returns the response, or None for notifications and responses."""
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return error_response(message.get("id") if isinstance(message, dict) else None, INVALID_REQUEST, "not a JSON-RPC 2.0 message")
    method = message.get("method")
    if "id" not in message:
        # A notification (notifications/initialized, notifications/cancelled, ...): no reply.
        # Calls run one at a time, so a cancelled call is ended by the router killing the container.
        return None
    request_id = message["id"]
    if method is None:
        return None  # a response to a request this server never sends
    if not isinstance(method, str):
        return error_response(request_id, INVALID_REQUEST, "method must be a string")
    handler = METHODS.get(method)
    if handler is None:
        return error_response(request_id, METHOD_NOT_FOUND, "method not found: %s" % method)
    try:
        return {"jsonrpc": "2.0", "id": request_id, "result": handler(message.get("params", {}))}
    except RpcError as error:
        return error_response(request_id, error.code, error.message)
    except Exception as error:  # noqa: BLE001 - a bug must answer the request, not kill the server
        log("internal error in %s: %r" % (method, error))
        return error_response(request_id, INTERNAL_ERROR, "internal error: %s" % error)


def main():
    log("ready (protocol versions %s)" % ", ".join(PROTOCOL_VERSIONS))
    for raw in sys.stdin.buffer:
        line = raw.strip()
        if not line:
            continue
        try:
            message = json.loads(line)
        except ValueError as error:
            send(error_response(None, PARSE_ERROR, "parse error: %s" % error))
            continue
        if isinstance(message, list):
            # A JSON-RPC batch (protocol 2025-03-26): answer the requests in one array.
            replies = [r for r in (handle(m) for m in message) if r is not None] if message else [error_response(None, INVALID_REQUEST, "empty batch")]
            if replies:
                send(replies)
            continue
        reply = handle(message)
        if reply is not None:
            send(reply)


if __name__ == "__main__":
    main()
