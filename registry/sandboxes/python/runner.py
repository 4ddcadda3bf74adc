"""
Runs one piece of user code for the python_sandbox server, then saves its matplotlib figures.

    python3 -u runner.py CODE_FILE FIGURES_DIR MEMORY_BYTES CPU_SECONDS

The server starts this in a fresh working directory (the current directory) with a clean
environment. This wrapper:
  1. lowers its own limits (address space, CPU time, no core files) for good: soft and hard,
     so the code cannot raise them again;
  2. runs CODE_FILE as `__main__`, with the working directory first on sys.path, and prints a
     traceback without this wrapper's frames if it raises;
  3. afterwards, even when the code raised, saves every matplotlib figure still open as
     FIGURES_DIR/figure-<n>.png (only when the code imported matplotlib.pyplot);
  4. exits with the code's exit status (1 for an uncaught exception, like `python3 file.py`).
"""

import linecache
import os
import resource
import sys
import traceback
import warnings

# The name the code has in tracebacks.
CODE_NAME = "<code>"


def lower_limits(memory_bytes, cpu_seconds):
    """Caps this process (and everything it starts): MEMORY_BYTES of address space, CPU_SECONDS, no core files."""
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    # No core files: they would land in the working directory and fill /tmp.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if cpu_seconds > 0:
        # The soft limit sends SIGXCPU, the hard one SIGKILL a second later.
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    # If the container runs out of memory anyway, the kernel should pick the code, not the server.
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")
    except OSError:
        pass


def exit_status(code):
    """The exit status `python3 file.py` would have for `sys.exit(code)`."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def run_code(path):
    """Runs the code as __main__; returns its exit status."""
    with open(path, encoding="utf-8") as f:
        source = f.read()
    # Let tracebacks show the code's own lines under CODE_NAME.
    linecache.cache[CODE_NAME] = (len(source), None, source.splitlines(True), CODE_NAME)
    namespace = {"__name__": "__main__", "__file__": CODE_NAME, "__builtins__": __builtins__}
    try:
        compiled = compile(source, CODE_NAME, "exec")
    except SyntaxError as error:
        traceback.print_exception(type(error), error, None)
        return 1
    try:
        exec(compiled, namespace)
    except SystemExit as error:
        return exit_status(error.code)
    except BaseException as error:  # noqa: BLE001 - report anything the code raises, like python3 would
        # Skip this function's own frame: the traceback starts in the user's code.
        traceback.print_exception(type(error), error, error.__traceback__.tb_next)
        return 1
    return 0


def save_figures(figures_dir):
    """Saves every open figure as PNG; only if the code used pyplot (never imports it otherwise)."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return
    for index, number in enumerate(plt.get_fignums(), start=1):
        try:
            plt.figure(number).savefig(os.path.join(figures_dir, "figure-%03d.png" % index), format="png")
        except Exception as error:  # noqa: BLE001 - one bad figure must not hide the others
            print("python_sandbox: figure %s could not be saved: %s" % (number, error), file=sys.stderr)


def main():
    code_path, figures_dir, memory_bytes, cpu_seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    lower_limits(memory_bytes, cpu_seconds)
    # The code sees itself as the script and its working directory as the first import location.
    sys.argv = [CODE_NAME]
    sys.path[0] = os.getcwd()
    # With the Agg backend plt.show() does nothing; figures are returned as images instead, so
    # its "non-GUI backend" warning would only be noise.
    warnings.filterwarnings("ignore", message=".*non-GUI backend.*")
    warnings.filterwarnings("ignore", message=".*non-interactive.*cannot be shown.*")
    status = 1
    try:
        status = run_code(code_path)
    finally:
        try:
            save_figures(figures_dir)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
    # A normal exit, so files the code left open are flushed; threads that never end are the
    # server's time limit's business.
    sys.exit(status)


if __name__ == "__main__":
    main()
