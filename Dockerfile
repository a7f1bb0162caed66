# resumeflow's image: every process of the distributed mode (api, worker, projector, beat,
# Flower, migrate) runs from it with its own command (docker-compose.yml).
#   docker build -t resumeflow .
# The builder installs the runtime dependencies at the versions of requirements/lock.txt, then
# the project itself, into /opt/venv; the runtime stage gets that venv and Tesseract only.

FROM python:3.11-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /build
# the lock first: this layer is rebuilt only when the pins change
COPY requirements/lock.txt requirements/lock.txt
COPY pyproject.toml README.md ./
COPY src ./src
# the project and its runtime dependencies, each at the lock's version (the lock also pins
# the dev tools, which stay out of the image)
RUN pip install --constraint requirements/lock.txt . \
    && pip uninstall -y pip

FROM python:3.11-slim AS runtime
# Tesseract reads scanned resumes; add e.g. tesseract-ocr-chi-sim for the Chinese fallback
ARG EXTRA_PACKAGES=""
RUN apt-get update \
    && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-eng $EXTRA_PACKAGES \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/resumeflow resumeflow \
    && mkdir /data && chown resumeflow:resumeflow /data
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    RESUMEFLOW_DATA_DIR=/data
USER resumeflow
WORKDIR /home/resumeflow
VOLUME ["/data"]
EXPOSE 8000
CMD ["resumeflow", "api", "--host", "0.0.0.0", "--port", "8000"]
