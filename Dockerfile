# tuanbot: the web server and scheduler in one container; the SQLite file lives in the /data volume.
#   docker build -t tuanbot .
#   docker run -p 8000:8000 -v tuanbot-data:/data -e TUANBOT_ADMIN_TOKEN=… tuanbot
#   docker run -p 8000:8000 -v tuanbot-data:/data tuanbot serve --host 0.0.0.0 --port 8000 --demo
#   docker run -v tuanbot-data:/data -v "$PWD":/in:ro tuanbot import-catalog /in/catalog.csv
# For PostgreSQL set TUANBOT_DATABASE_URL=postgresql+psycopg://user:pass@host/db (no volume needed).

# Build stage: turn the source into a wheel, so the runtime image holds the installed package only.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY catalog ./catalog
COPY pricing ./pricing
COPY storage ./storage
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TUANBOT_DATABASE_URL=sqlite:////data/tuanbot.db
# Every dependency ships manylinux wheels (psycopg[binary], cryptography, matplotlib): no compiler.
COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl \
    && rm -rf /wheels \
    && groupadd --system --gid 10001 tuanbot \
    && useradd --system --uid 10001 --gid tuanbot --home-dir /data --shell /usr/sbin/nologin tuanbot \
    && mkdir -p /data \
    && chown tuanbot:tuanbot /data
# The ownership above is copied into a new named volume; a bind-mounted host directory must be
# writable by uid 10001 (SQLite also writes its -wal and -shm files next to the database).
VOLUME ["/data"]
WORKDIR /data
USER tuanbot
EXPOSE 8000
# slim has no curl; Python's urllib is there. Only `serve` answers HTTP: a container running
# `worker` should be started with --no-healthcheck.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
# Exec form: tuanbot is PID 1 and receives SIGTERM from `docker stop` itself (graceful shutdown).
ENTRYPOINT ["tuanbot"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
