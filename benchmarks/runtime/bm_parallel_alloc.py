"""The large-allocation loop of large_object_churn, split over threads or processes.

A fixed amount of work (``--tasks`` chunks of large allocations, 600 B .. 256 KiB each) is
shared out among ``--threads N`` threads of one process, or among ``--pool-processes N``
workers of a ``concurrent.futures.ProcessPoolExecutor``. The total work is the same for every
N, so times for different N are directly comparable.

Threads share one allocator: with the GIL they take turns (switching every few ms, each
leaving the allocator in a different state), on free-threaded builds they allocate truly at
once, and an allocator that serialises on one lock (musl's) pays for it. Processes share no
allocator state and show the contrast. Pools are created and warmed up outside the timing.
"""

import argparse
import multiprocessing
import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

from _common import log_uniform_sizes, make_runner, set_metadata

SIZES_PER_TASK = 64
MIN_SIZE = 600
MAX_SIZE = 256 * 1024
WINDOW = 16
SEED = 4096


def alloc_task(seed: int) -> int:
    """One chunk of work: SIZES_PER_TASK large objects made and dropped, WINDOW kept alive."""
    sizes = log_uniform_sizes(SIZES_PER_TASK, MIN_SIZE, MAX_SIZE, seed)
    live: list[object] = [None] * WINDOW
    total = 0
    for i, size in enumerate(sizes):
        kind = i % 4
        obj: object
        if kind == 0:
            obj = bytearray(size)
        elif kind == 1:
            obj = b"x" * size
        elif kind == 2:
            obj = [None] * (size // 8)
        else:
            obj = "y" * size
        live[i % WINDOW] = obj
        total += size
    return total


def run_tasks(executor: Executor, workers: int, tasks: int) -> int:
    # One submission per worker, each doing an equal share of the tasks: few cross-thread
    # hand-offs, so the time is spent allocating rather than in the executor's queue.
    shares = [range(w, tasks, workers) for w in range(workers)]
    futures = [executor.submit(run_share, share.start, share.stop, share.step) for share in shares]
    return sum(f.result() for f in futures)


def run_share(start: int, stop: int, step: int) -> int:
    return sum(alloc_task(SEED + t) for t in range(start, stop, step))


def time_parallel(loops: int, executor: Executor, workers: int, tasks: int) -> float:
    start = time.perf_counter()
    for _ in range(loops):
        run_tasks(executor, workers, tasks)
    return time.perf_counter() - start


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
    parser.add_argument("--tasks", type=int, default=16, help="chunks of work per loop")


def forward(args: argparse.Namespace) -> list[str]:
    argv = ["--tasks", str(args.tasks)]
    if args.pool_processes is not None:
        return [*argv, "--pool-processes", str(args.pool_processes)]
    return [*argv, "--threads", str(args.threads or 1)]


def main() -> None:
    runner, args = make_runner(add_arguments, forward)
    if args.pool_processes is not None:
        mode, workers = "processes", args.pool_processes
    else:
        mode, workers = "threads", args.threads or 1
    if workers < 1:
        raise SystemExit("--threads/--pool-processes must be >= 1")
    name = f"{'process' if mode == 'processes' else 'threaded'}_alloc_{workers}"
    set_metadata(
        runner,
        f"large-allocation loop shared by {workers} {mode}",
        mode=mode,
        workers=workers,
        tasks_per_loop=args.tasks,
        objects_per_task=SIZES_PER_TASK,
        min_size=MIN_SIZE,
        max_size=MAX_SIZE,
        seed=SEED,
    )
    executor: Executor
    if mode == "processes":
        # fork where available: the same start method on every Python version (3.14 changed
        # the Linux default to forkserver); the pool is started before timing either way.
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        runner.metadata["basebench_start_method"] = context.get_start_method()
        executor = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    else:
        executor = ThreadPoolExecutor(max_workers=workers)
    with executor:
        # Start every worker before timing.
        run_tasks(executor, workers, workers)
        runner.bench_time_func(name, time_parallel, executor, workers, args.tasks)


if __name__ == "__main__":
    main()
