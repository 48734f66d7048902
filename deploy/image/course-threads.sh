# Sourced by the docker-stacks start script (before-notebook.d) before Jupyter starts.
# Thread pools of PyTorch, BLAS, OpenMP and numba default to every core the node has, but a
# hub pod or `docker run --cpus N` may use only N: sized to the node they oversubscribe the
# CPU limit and every cell runs slower. Size them to the CPU limit unless already set.
course_cpu_limit() {
    local quota period cpus
    cpus="$(nproc)"
    if [ -r /sys/fs/cgroup/cpu.max ]; then                      # cgroup v2
        read -r quota period < /sys/fs/cgroup/cpu.max
    elif [ -r /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then       # cgroup v1
        quota="$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us)"
        period="$(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)"
    fi
    if [[ "${quota:-max}" =~ ^[0-9]+$ ]] && [ "${quota}" -gt 0 ] && [ "${period:-0}" -gt 0 ]; then
        quota=$(( (quota + period - 1) / period ))              # round a fraction up
        if [ "${quota}" -lt "${cpus}" ]; then cpus="${quota}"; fi
    fi
    echo "${cpus}"
}

if [ -z "${OMP_NUM_THREADS:-}" ]; then
    OMP_NUM_THREADS="$(course_cpu_limit)"
    export OMP_NUM_THREADS
    export MKL_NUM_THREADS="${MKL_NUM_THREADS:-${OMP_NUM_THREADS}}"
    export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-${OMP_NUM_THREADS}}"
    export NUMBA_NUM_THREADS="${NUMBA_NUM_THREADS:-${OMP_NUM_THREADS}}"
    echo "course: ${OMP_NUM_THREADS} threads for PyTorch/BLAS/numba (the CPU limit of this container)"
fi
unset -f course_cpu_limit
