# The cnnviz app (and, with another command, its training worker) in one image.
#
#   docker build -t cnnviz .
#   docker run -p 8501:8501 cnnviz                       # one container: nothing else needed
#   docker compose -f deploy/compose.yaml up --scale app=3 --scale worker=2   # past one machine
#
# Without CNNVIZ_REDIS_URL the app trains in its own process (the embedded pool) and
# keeps the class poll in memory. With it, trainings go to the queue in that Redis and
# run in `python -m cnnviz.jobs.worker` containers (the same image).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    KERAS_HOME=/home/cnnviz/.keras

RUN useradd --create-home --uid 10001 cnnviz
WORKDIR /app

# the requirements first: a code change does not reinstall TensorFlow
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=cnnviz:cnnviz . .
USER 10001

EXPOSE 8501
# Streamlit answers "ok" here once the server runs (sessions and pages work); Python
# asks, so the image needs no curl (an error or a non-200 answer exits non-zero)
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]

# the warm-up (cnnviz/ui/warm.py) starts as soon as the server answers: one request to
# its script health check runs the home page once
CMD ["sh", "-c", "python -m cnnviz.ui.warm http://127.0.0.1:8501 & exec streamlit run streamlit_app.py --server.headless=true --server.address=0.0.0.0 --server.port=8501 --server.fileWatcherType=none --browser.gatherUsageStats=false"]
