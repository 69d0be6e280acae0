# The chatops server: `docker build -t chatops .`, then see compose.yaml and README's "Running it for real".
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Build from a copy of the sources, install the package (not editable), then drop the copy.
COPY pyproject.toml README.md LICENSE /tmp/chatops-src/
COPY chatops /tmp/chatops-src/chatops
COPY adapters /tmp/chatops-src/adapters
COPY commands /tmp/chatops-src/commands
COPY integrations /tmp/chatops-src/integrations
RUN pip install /tmp/chatops-src && rm -rf /tmp/chatops-src

# A dedicated unprivileged user; its home is the working directory, where a SQLite database would live.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /var/lib/chatops chatops
USER chatops
WORKDIR /var/lib/chatops

# The desk's rules are mounted here (compose.yaml mounts ./chatops.yaml read-only).
ENV CHATOPS_CONFIG=/etc/chatops/chatops.yaml

EXPOSE 3000

# /healthz answers 200 while the database takes writes and 503 when it does not; urlopen raises on a 503.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4)"]

CMD ["chatops", "serve", "--port", "3000"]
