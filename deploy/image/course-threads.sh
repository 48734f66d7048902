# Sourced by the docker-stacks start script (before-notebook.d) before Jupyter starts.
# Thread pools of PyTorch, BLAS, OpenMP and numba default to every core the node has, but a
# hub pod or `docker run --cpus N` may use only N: sized to the node they oversubscribe the
# CPU limit and every cell runs slower. Size them to the CPUs this container may use (its CPU
# affinity and cgroup quota, counted by course_utils.cpus, as grading does) unless already set.
if [ -z "${OMP_NUM_THREADS:-}" ]; then
    OMP_NUM_THREADS="$(python -m course_utils.cpus 2>/dev/null || nproc)"
    export OMP_NUM_THREADS
    export MKL_NUM_THREADS="${MKL_NUM_THREADS:-${OMP_NUM_THREADS}}"
    export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-${OMP_NUM_THREADS}}"
    export NUMBA_NUM_THREADS="${NUMBA_NUM_THREADS:-${OMP_NUM_THREADS}}"
    echo "course: ${OMP_NUM_THREADS} threads for PyTorch/BLAS/numba (the CPUs this container may use)"
fi
