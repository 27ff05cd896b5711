"""Run the emulator on a real loopback port in a background thread."""

from __future__ import annotations

import threading
from types import TracebackType

from .api import API_PREFIX
from .clock import EmulatorClock
from .control import CONTROL_PREFIX
from .httpserver import ThreadingWSGIServer
from .state import EmulatorConfig, EmulatorState
from .wsgi import make_app


class EmulatorServer:
    """A running emulator: its URLs, credentials and state, with reset() and stop()."""

    def __init__(
        self,
        state: EmulatorState,
        httpd: ThreadingWSGIServer,
        host: str,
        *,
        platform: str = "thingsee",
        api_prefix: str = API_PREFIX,
    ) -> None:
        self.state = state
        self.platform = platform
        self._httpd = httpd
        self.host = host
        self.port: int = httpd.server_address[1]
        url_host = f"[{host}]" if ":" in host else host
        self.origin = f"http://{url_host}:{self.port}"
        self.base_url = f"{self.origin}{api_prefix}/"
        self.control_url = f"{self.origin}{CONTROL_PREFIX}/"
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"{platform}-emulator-{self.port}",
            daemon=True,
        )
        self._stopped = False
        self._stop_lock = threading.Lock()

    @property
    def client_id(self) -> str:
        return self.state.client_id

    @property
    def client_secret(self) -> str:
        return self.state.client_secret

    def start(self) -> None:
        """Start serving in a daemon thread."""
        self._thread.start()

    def reset(self) -> None:
        """Clear devices, groups, tokens and calls; restore start settings and real time."""
        self.state.reset()

    def stop(self) -> None:
        """Stop serving and close open connections; safe to call more than once."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.close_connections()
        self._httpd.server_close()

    def __enter__(self) -> EmulatorServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def start_emulator(
    config: EmulatorConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    clock: EmulatorClock | None = None,
    platform: str = "thingsee",
) -> EmulatorServer:
    """Start an emulator of `platform` on host:port (0 picks a free port), running."""
    config = config or EmulatorConfig()
    if platform == "thingsee":
        state = EmulatorState(config, clock)
        app, prefix = make_app(state), API_PREFIX
    else:
        from .platforms import build_mode

        state, app = build_mode(platform, config, clock)
        prefix = app.dialect.api_prefix
    httpd = ThreadingWSGIServer((host, port), app)
    server = EmulatorServer(state, httpd, host, platform=platform, api_prefix=prefix)
    server.start()
    return server
