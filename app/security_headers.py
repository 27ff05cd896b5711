"""Headers every response carries (CSP, framing, sniffing, referrer) and the trusted proxy.

The CSP allows only this origin's own files: the PWA and the console have no inline script or
style, and the QR decoder's WebAssembly needs 'wasm-unsafe-eval' (compiling WebAssembly, not
JavaScript eval). A browser test loads both pages signed in and fails on any CSP violation.
"""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "X-Content-Type-Options": "nosniff",
    # History and device URLs name TUIDs and technicians: never sent to another site.
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}

HSTS = "max-age=31536000"


def _add_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:  # https, directly or as a trusted proxy says
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app: Flask) -> None:
    """Add the headers to every response; trust TRUSTED_PROXIES proxies' X-Forwarded-*."""
    app.after_request(_add_headers)
    hops = int(app.config["TRUSTED_PROXIES"])
    if hops > 0:
        # Only behind proxies that overwrite these headers: anyone could send them otherwise.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
