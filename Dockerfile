# Fieldhand: web app (gunicorn) and, with another command, the sync worker.
FROM node:20-bookworm-slim AS pwa
WORKDIR /src/pwa
COPY pwa/package.json pwa/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY pwa/ ./
RUN npm run build

FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends libzbar0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY app/ app/
COPY emulator/ emulator/
COPY migrations/ migrations/
RUN pip install --no-cache-dir .
COPY --from=pwa /src/pwa/dist pwa/dist
ENV FIELDHAND_PWA_DIST=/app/pwa/dist
RUN useradd --create-home fieldhand && mkdir -p /app/instance && chown fieldhand /app/instance
USER fieldhand
EXPOSE 8000
# Run migrations first (`flask --app app db upgrade`), then the web app; run the sync worker
# as a second container with: flask --app app sync run
# Bulk dry runs read the platform in a background thread of the worker that took the request;
# the longest request left is confirming a 50,000-device job (seconds), well inside 120 s.
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "4", "--worker-class", "app.gunicorn_worker.JsonErrorWorker", "--timeout", "120", "--access-logfile", "-", "app:create_app()"]
