"""``wfsim app``: serve the web app (``sim/app/main.py``) with Streamlit on this machine."""
from __future__ import annotations

import os
import socket
import sys
import threading
import time
from importlib.util import find_spec
from pathlib import Path

import typer

MAIN = Path(__file__).resolve().parents[1] / "app" / "main.py"     # the Streamlit script


def port_free(port: int, address: str) -> bool:
    """Whether a server can listen on the port (connections of a server just stopped, in TIME_WAIT, do
    not count on POSIX, where the server reuses the address as this check does)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        if os.name == "posix":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((address, port))
        except OSError:
            return False
    return True


def streamlit_command(port: int, address: str) -> list[str]:
    """Streamlit always headless (no first-run e-mail prompt), no usage statistics sent, no file watcher."""
    return [sys.executable, "-m", "streamlit", "run", str(MAIN), "--server.port", str(port),
            "--server.address", address, "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none", "--global.developmentMode", "false",
            "--client.toolbarMode", "minimal", "--theme.base", "light"]


def _open_when_up(url: str, port: int, address: str, seconds: float = 60) -> None:
    import webbrowser

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            if s.connect_ex((address, port)) == 0:
                webbrowser.open(url)
                return
        time.sleep(0.3)


def app_command(
    port: int = typer.Option(8501, "--port", min=1, max=65535, help="port to serve the app on"),
    no_browser: bool = typer.Option(False, "--no-browser", help="do not open a web browser (e.g. on a server; "
                                                                  "open the address printed instead)"),
    address: str = typer.Option("localhost", "--address", help="network address to listen on; 0.0.0.0 to let "
                                                               "other machines reach it"),
) -> None:
    """Start the web app: pick a scenario, switch levers on, run, compare with the baseline, download the
    results. Needs Streamlit (the package's "app" extra). Results go to results/ here."""
    from ..console import bad_input, out_console

    if find_spec("streamlit") is None:
        bad_input(["app: needs Streamlit, which is not installed: pip install 'wfsim-ics[app]'"])
    if not port_free(port, address):
        bad_input([f"--port: {port} is in use on {address}; choose another, e.g. --port {port + 1}"])
    url = f"http://{'localhost' if address in ('0.0.0.0', '::') else address}:{port}"
    out_console.print(f"wfsim app at {url} (Ctrl-C to stop); results go to {Path('results').resolve()}",
                      highlight=False)
    if not no_browser:
        threading.Thread(target=_open_when_up, args=(url, port, "127.0.0.1" if address in ("0.0.0.0", "localhost")
                                                     else address), daemon=True).start()
    from ..processes import run_child

    try:
        code = run_child(streamlit_command(port, address))      # Streamlit ends with this command, however it ends
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)
