"""`make run`: migrate, create demo users once, start the sandbox platform if none is configured,
run a sync worker in-process and serve the app. Production uses gunicorn + `flask sync run`."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from flask_migrate import upgrade
from werkzeug.serving import make_server

from app import create_app
from app.config import load_settings
from app.platform.provider import profile_for
from app.server_errors import JsonErrorRequestHandler
from app.services.accounts import ensure_demo_users
from app.sync.worker import start_in_thread


def _sandbox_platform(platform: str, overrides: dict[str, Any]) -> None:
    from emulator.platforms import platform_defaults
    from emulator.server import start_emulator
    from emulator.state import EmulatorConfig

    profile = profile_for(platform)
    port = int(os.environ.get("FIELDHAND_EMULATOR_PORT", "8081"))
    config = platform_defaults(profile.key, EmulatorConfig(devices=50, seed=2026))
    emulator = start_emulator(config, port=port, platform=profile.key)
    overrides.update(
        PLATFORM=profile.key,
        PLATFORM_URL=emulator.base_url,
        PLATFORM_CLIENT_ID=emulator.client_id,
        PLATFORM_CLIENT_SECRET=emulator.client_secret,
        # ThingScale's API token (ThingsMatrix would take it as an API key: log in instead).
        PLATFORM_API_KEY=emulator.client_secret if profile.key == "thingscale" else None,
    )
    print(f"Sandbox platform ({profile.title} emulator, 50 devices): {emulator.base_url}")
    sample = sorted(emulator.state.tuids())[:3]
    print(f"  sample device ids ({profile.device_id.name}): {', '.join(sample)}")


def main() -> int:
    """Start everything for a single machine and block serving HTTP."""
    overrides: dict[str, Any] = {"SYNC_IN_PROCESS": True}
    settings = load_settings()
    if not settings.get("PLATFORM_URL"):
        _sandbox_platform(settings["PLATFORM"], overrides)
    app = create_app(overrides)
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
        credentials = ensure_demo_users()
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    start_in_thread(app)
    server = make_server(host, port, app, threaded=True, request_handler=JsonErrorRequestHandler)
    print(f"Fieldhand is running: open http://{host}:{port}/")
    print(f"  supervisor console: http://{host}:{port}/console")
    print(f"  API documentation: http://{host}:{port}/api/openapi.json")
    if credentials:
        credentials_file = Path(app.instance_path) / "demo-credentials.txt"
        lines = [f"{name} / {password}" for name, password in credentials.items()]
        credentials_file.write_text("\n".join(lines) + "\n")
        credentials_file.chmod(0o600)
        print("  Demo accounts (shown once; also saved to instance/demo-credentials.txt):")
        for role, line in zip(("technician", "supervisor", "admin"), lines, strict=True):
            print(f"    {role:<11} {line}")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopping")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
