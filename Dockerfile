# arxivwatch in a container: `arxivwatch run` as a non-root user, everything it keeps on /data.
#
#   docker build -t arxivwatch .
#   docker run -d --name arxivwatch --restart unless-stopped --stop-timeout 660 \
#     -v arxivwatch-data:/data --env-file /etc/arxivwatch/env -p 127.0.0.1:3000:3000 arxivwatch
#
# /data holds the project: config/topics.yaml, catalog/README.md and the state database
# (state.url: sqlite:///arxivwatch.db resolves to /data/arxivwatch.db). See docs/deployment.md.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY templates ./templates
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
# git: for catalog.git.commit / push. No init process is needed: `run` installs its own
# SIGTERM/SIGINT handlers, so it stops cleanly as PID 1.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin arxivwatch \
 && mkdir -p /data && chown arxivwatch:arxivwatch /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels

ENV ARXIVWATCH_CONFIG=/data/config/topics.yaml \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /data
VOLUME ["/data"]
USER arxivwatch:arxivwatch
EXPOSE 3000
STOPSIGNAL SIGTERM
# 503 from /healthz (last poll failed) makes urlopen raise: the container shows as unhealthy.
HEALTHCHECK --interval=60s --timeout=10s --start-period=30s \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=5)"]
ENTRYPOINT ["arxivwatch"]
# 0.0.0.0 inside the container only; publish the port on the host's loopback (or a TLS proxy).
CMD ["run", "--host", "0.0.0.0", "--port", "3000", "--log-format", "json"]
