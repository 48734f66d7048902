# The course image: Jupyter's pytorch-notebook + the course package at the exact versions CI
# tests (requirements/constraints.txt), every dataset of data_manifest.yaml baked in, and the
# student notebooks in the home folder. Runs as jovyan; on a hub use `singleuser.cmd: null`.
#
#   CPU (default):  docker build -t ghcr.io/bioimage-ml-workbook/workbook:0.1.0-cpu .
#   GPU:            docker build --build-arg BASE_TAG=cuda13-2026-09-01 \
#                     --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu130 \
#                     -t ghcr.io/bioimage-ml-workbook/workbook:0.1.0-gpu .
#   (CUDA 13 needs NVIDIA driver >= 580; for older drivers use BASE_TAG=cuda12-2026-09-01 and
#   the cu12x index that carries the pinned torch: https://pytorch.org/get-started/previous-versions/)
#
# Torch, pinned consistently: the base image ships whatever torch was newest on its build day,
# built for its variant (CPU or CUDA). We keep the variant and pin the version: torch and
# torchvision are installed at the versions of the constraints file from TORCH_INDEX_URL (a
# no-op when the base already has them). Their CUDA runtime wheels (nvidia-*, cuda-*, triton)
# come with that build, so those lines of the constraints file - frozen on PyPI's CUDA 13 torch
# - are left out here. Everything else is installed exactly as pinned, test tools included
# (nbgrader, pytest), so instructors can grade and run the checks inside the image.

ARG BASE_TAG=2026-09-01
FROM quay.io/jupyter/pytorch-notebook:${BASE_TAG}

ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# The Python of the base tag; environment.yml names the same (tests/test_consistency.py checks).
ARG PYTHON_VERSION=3.13
# 0 leaves the datasets out (a hub that serves them from a shared volume pulls a smaller image).
ARG FETCH_DATA=1

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# Datasets are looked up in COURSE_DATA_DIRS (read-only); the writable cache stays in $HOME.
ENV COURSE_DATA_DIRS=/opt/course-data \
    CELLPOSE_LOCAL_MODELS_PATH=/opt/course-data/cellpose-cpsam

# 1. The pinned environment (a layer that changes only when the pins change). DL3013 cannot see
#    that torch and torchvision are pinned: their ==versions are read from the constraints file.
COPY --chown=${NB_UID}:${NB_GID} requirements/constraints.txt /tmp/course/requirements/
# hadolint ignore=DL3013
RUN python -c "import sys; v = '%d.%d' % sys.version_info[:2]; sys.exit(None if v == '${PYTHON_VERSION}' else f'base image has Python {v}, not ${PYTHON_VERSION}: update PYTHON_VERSION here and python in environment.yml together')" && \
    pins=/tmp/course/requirements/constraints.txt && \
    torch_pin="$(grep -iE '^torch==' "${pins}" | sed 's/+.*//')" && \
    vision_pin="$(grep -iE '^torchvision==' "${pins}" | sed 's/+.*//')" && \
    pip install --no-cache-dir --index-url "${TORCH_INDEX_URL}" "${torch_pin}" "${vision_pin}" && \
    pip uninstall --yes torchaudio && \
    grep -viE '^(torch|torchvision|torchaudio|triton|nvidia-[a-z0-9-]+|cuda-[a-z0-9-]+)==' "${pins}" \
        > /tmp/course/pins-image.txt && \
    pip install --no-cache-dir -r /tmp/course/pins-image.txt && \
    fix-permissions "${CONDA_DIR}" && \
    fix-permissions "/home/${NB_USER}"

# 2. The course package itself, then a check that the environment is whole.
COPY --chown=${NB_UID}:${NB_GID} pyproject.toml README.md data_manifest.yaml /tmp/course/
COPY --chown=${NB_UID}:${NB_GID} course_utils /tmp/course/course_utils
RUN pip install --no-cache-dir --no-deps /tmp/course && \
    pip check && \
    python -c "import course_utils, torch, torchvision, cellpose, scanpy, umap, nbgrader, jupyterhub.singleuser" && \
    rm -rf /tmp/course && \
    fix-permissions "${CONDA_DIR}" && \
    fix-permissions "/home/${NB_USER}"

# 3. Every dataset of the manifest, downloaded and sha256-verified at build time, read-only.
#    And bubblewrap, the sandbox `course-utils grade` runs submissions in (it also needs user
#    namespaces at run time: `course-utils doctor` says whether the container allows them).
# hadolint ignore=DL3066
USER root
# DL3008: the bubblewrap of the base image's distribution release, not a pinned build.
# hadolint ignore=DL3008
RUN apt-get update -qq && \
    apt-get install -y -qq --no-install-recommends bubblewrap && \
    rm -rf /var/lib/apt/lists/*
RUN mkdir -p /opt/course-data && \
    if [ "${FETCH_DATA}" = 1 ]; then \
        COURSE_CACHE_DIR=/tmp/course-cache course-utils data fetch --all --quiet --into /opt/course-data && \
        course-utils data verify; \
    fi && \
    rm -rf /tmp/course-cache /root/.cache && \
    chmod -R a+rX,go-w /opt/course-data

# 4. Thread pools sized to the container's CPU limit (see the script), and the notebooks:
#    a pristine copy in /opt/course/notebooks (a hub copies it into each home at start) and one
#    in the home folder for `docker run`.
COPY deploy/image/course-threads.sh /usr/local/bin/before-notebook.d/10-course-threads.sh
COPY notebooks/[0-9][0-9]_*.ipynb /opt/course/notebooks/
COPY --chown=${NB_UID}:${NB_GID} notebooks/[0-9][0-9]_*.ipynb /home/${NB_USER}/

# NB_UID is numeric (1000), set by the base image; hadolint cannot see through the variable.
# hadolint ignore=DL3066
USER ${NB_UID}
WORKDIR /home/${NB_USER}
