# switchboard: a slim image that serves the webhooks, desk and API.
# Build: docker build -t switchboard .   Run: docker run -p 8000:8000 --env-file .env switchboard
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
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
RUN pip install ".[ews]" \
    && useradd --create-home --uid 10001 switchboard \
    && mkdir -p /data && chown switchboard /data

USER switchboard
EXPOSE 8000
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3).status == 200 else 1)"
CMD ["switchboard", "serve", "--host", "0.0.0.0", "--port", "8000"]
