"""medium_objects' loop split over threads or processes that really run at once.

A fixed amount of work (``--tasks`` chunks of medium allocations, 600 B .. 60 KB each, as in
``medium_objects``) is shared out among ``--threads N`` threads of one process, or among
``--pool-processes N`` workers of a ``concurrent.futures.ProcessPoolExecutor``. The total work
is the same for every N, so times for different N compare directly: time(N) / time(1) is the
scaling, 1/N at best.

basebench gives a workload of N workers N CPUs (the manifest's ``cpus``), so the workers can
run at once: with the GIL, threads still take turns at the interpreter, and what runs in
parallel is the GIL's hand-offs through the libc's mutexes and condition variables and the
allocator's locking (musl's malloc has one lock; glibc gives threads their own arenas and
caches); on free-threaded builds the threads allocate truly at once. Processes share no
allocator state and show the contrast. Pools are created and warmed up outside the timing.
"""

import argparse
import multiprocessing
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

from _common import churn, churn_source, log_uniform_sizes, make_runner, set_metadata, time_body
from bm_object_churn import RANGES

SIZES_PER_TASK = 128
MIN_SIZE = RANGES["medium"].min_size
MAX_SIZE = RANGES["medium"].max_size
WINDOW = 16
SEED = 4096
SOURCE = churn_source([MAX_SIZE] * SIZES_PER_TASK)


def alloc_task(seed: int) -> int:
    """One chunk of work: SIZES_PER_TASK medium objects made and dropped, WINDOW kept alive."""
    return churn(log_uniform_sizes(SIZES_PER_TASK, MIN_SIZE, MAX_SIZE, seed), WINDOW, SOURCE)


def run_share(start: int, stop: int, step: int) -> int:
    return sum(alloc_task(SEED + t) for t in range(start, stop, step))


def run_tasks(executor: Executor, workers: int, tasks: int) -> int:
    # One submission per worker, each doing an equal share of the tasks: few cross-thread
    # hand-offs, so the time is spent allocating rather than in the executor's queue.
    shares = [range(w, tasks, workers) for w in range(workers)]
    futures = [executor.submit(run_share, share.start, share.stop, share.step) for share in shares]
    return sum(f.result() for f in futures)


def workers_of(args: argparse.Namespace) -> tuple[str, int]:
    if args.pool_processes is not None:
        return "processes", args.pool_processes
    return "threads", args.threads or 1


def benchmark_name(mode: str, workers: int) -> str:
    return f"medium_{mode}_{workers}"


def allocations(args: argparse.Namespace) -> Callable[[], object]:
    """What one loop allocates, done in the calling thread (for allocation checks)."""
    return lambda: run_share(0, args.tasks, 1)


def make_executor(mode: str, workers: int) -> tuple[Executor, str]:
    """The pool, and its processes' start method ("" for threads)."""
    if mode == "processes":
        # fork where available: the same start method on every Python version (3.14 changed
        # the Linux default to forkserver); the pool is started before timing either way.
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        return pool, context.get_start_method()
    return ThreadPoolExecutor(max_workers=workers), ""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--threads", type=int, default=None, help="threads sharing the work")
    group.add_argument(
        "--pool-processes",
        dest="pool_processes",
        type=int,
        default=None,
        help="ProcessPoolExecutor workers sharing the work (instead of threads)",
    )
    parser.add_argument("--tasks", type=int, default=32, help="chunks of work per loop")


def forward(args: argparse.Namespace) -> list[str]:
    argv = ["--tasks", str(args.tasks)]
    if args.pool_processes is not None:
        return [*argv, "--pool-processes", str(args.pool_processes)]
    return [*argv, "--threads", str(args.threads or 1)]


def main() -> None:
    runner, args = make_runner(add_arguments, forward)
    mode, workers = workers_of(args)
    if workers < 1:
        raise SystemExit("--threads/--pool-processes must be >= 1")
    set_metadata(
        runner,
        f"medium-allocation loop shared by {workers} {mode}",
        mode=mode,
        workers=workers,
        tasks_per_loop=args.tasks,
        objects_per_task=SIZES_PER_TASK,
        min_size=MIN_SIZE,
        max_size=MAX_SIZE,
        seed=SEED,
    )
    executor, start_method = make_executor(mode, workers)
    if start_method:
        runner.metadata["basebench_start_method"] = start_method
    with executor:
        # Start every worker before timing.
        run_tasks(executor, workers, workers)

        def body() -> int:
            return run_tasks(executor, workers, args.tasks)

        runner.bench_time_func(benchmark_name(mode, workers), time_body, body)


if __name__ == "__main__":
    main()
