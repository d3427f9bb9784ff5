# switchboard: a slim image that serves the webhooks, desk and API (`switchboard serve`).
# Build: docker build -t switchboard .
# Run:   docker run -p 8000:8000 --env-file .env -v switchboard-data:/data switchboard
# The server migrates the database on start, logs JSON lines to stderr (docs/operations.md),
# and answers /healthz (the process is up), /readyz (the database and its schema) and /metrics.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SWITCHBOARD_DATABASE_URL=sqlite:////data/switchboard.db

WORKDIR /app
COPY pyproject.toml README.md ./
COPY switchboard ./switchboard
COPY ivr ./ivr
COPY routing ./routing
COPY calendar_sync ./calendar_sync
COPY identity ./identity
COPY tickets ./tickets
COPY console ./console
COPY migrations ./migrations
COPY examples ./examples
# Installed as root into the system site-packages (read-only for the server's user); the
# server's user owns only /data, where SQLite keeps the database.
RUN pip install ".[ews]" \
    && groupadd --gid 10001 switchboard \
    && useradd --uid 10001 --gid 10001 --create-home --shell /usr/sbin/nologin switchboard \
    && mkdir -p /data && chown 10001:10001 /data

# Numeric, so an orchestrator's "run as non-root" check can verify it without /etc/passwd.
USER 10001:10001
EXPOSE 8000
VOLUME ["/data"]
# python:3.11-slim has no curl: the standard library asks /healthz; any error or non-200 fails.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3).status == 200 else 1)"]
STOPSIGNAL SIGTERM
CMD ["switchboard", "serve", "--host", "0.0.0.0", "--port", "8000"]
