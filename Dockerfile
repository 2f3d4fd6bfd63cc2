# One image for every careerload role in docker-compose.loadtest.yml: the
# reference backend, the one-shot seed, the Locust master and its workers.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY foundation ./foundation
COPY profiles ./profiles
COPY careerload ./careerload
COPY target_api ./target_api
COPY seed_data ./seed_data
COPY scenarios ./scenarios
COPY locustfiles ./locustfiles
COPY analysis ./analysis
# /app/results: where `careerload run` writes run directories (docker-compose.loadtest.yml mounts a volume there).
RUN pip install . && useradd --create-home careerload && mkdir /app/results && chown careerload /app/results

USER careerload
# 8000 the reference backend, 8089 Locust's web UI, 5557 workers -> master
EXPOSE 8000 8089 5557
ENTRYPOINT ["careerload"]
CMD ["--help"]
