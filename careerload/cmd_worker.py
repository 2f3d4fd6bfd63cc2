"""`careerload worker --master-host HOST`: Locust worker processes for a master on another host.

What each load-generating VM (or container) runs. The worker brings no options
of its own: scenario, host, think times, database URL and run directory all
come from the master with every spawn message (Locust's protocol). Its raw
request rows travel to the master in batches, which writes them into its run
directory as `requests-<worker>.csv`; nothing needs collecting from the VM,
unless the master dies: the rows it never confirmed are then kept on the VM
(`--unsent-dir`) and the worker says where.

The Locust workers run as children (`python -m locust -f locustfiles --worker`),
started and stopped with the same helpers as `careerload run`: own sessions,
killed with this process (PR_SET_PDEATHSIG), Ctrl-C or SIGTERM forwarded as
SIGINT, escalated to SIGTERM then SIGKILL by PID. Each worker exits when the
master's run ends (a headless master tells its workers to quit); start it
again for the next run.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys

from foundation.errors import UsageError
from careerload.cmd_run import add_option
from foundation.options import BY_DEST, worker_count


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="run Locust worker processes for a master on another host (cloud VMs, containers)",
        description=(
            "Connect Locust worker processes to a careerload master (`careerload run ... --master-bind-host 0.0.0.0 "
            "--expect-workers N`). Everything else (scenario, host, options) comes from the master; the raw "
            "request log goes to the master's run directory. Exits when the master's run ends. "
            "Exit 0 when every worker ended normally, 2 on a usage error or a worker that failed."
        ),
    )
    parser.add_argument("--master-host", required=True, help="host name or address of the master")
    parser.add_argument("--master-port", type=int, default=5557, help="the master's worker port (default: %(default)s)")
    parser.add_argument("--processes", type=worker_count, default=1, metavar="N|auto",
                        help="worker processes on this host; one Locust process uses one core, so `auto` "
                             "(one per core) saturates the host (default: 1)")
    add_option(parser, BY_DEST["unsent_dir"])  # the Locust worker's own option, from the one table
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from careerload import locust_processes

    if args.processes < 1:
        raise UsageError(f"--processes: expected 1 or more, got {args.processes}")
    if not 0 < args.master_port < 65536:
        raise UsageError(f"--master-port: expected a TCP port, got {args.master_port}")
    env = locust_processes.child_env()
    command = locust_processes.worker_command(args.master_host, args.master_port, "master", args.unsent_dir)
    print(f"careerload: {args.processes} worker process(es) for the master at {args.master_host}:{args.master_port}",
          file=sys.stderr, flush=True)
    workers: list[subprocess.Popen] = []
    try:
        with locust_processes.sigterm_as_interrupt():
            for _ in range(args.processes):
                workers.append(locust_processes.start_child(command, env))
            for proc in workers:
                proc.wait()
    except KeyboardInterrupt:
        print("careerload: stopping the workers...", file=sys.stderr, flush=True)
        for proc in workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
    finally:
        for proc in workers:
            locust_processes.stop_child(proc, locust_processes.WORKER_EXIT_TIMEOUT_S)
    failed = [proc.returncode for proc in workers if proc.returncode not in (0, -signal.SIGINT, 130)]
    if failed:
        raise UsageError(f"{len(failed)} of {len(workers)} worker process(es) failed (exit codes "
                         f"{', '.join(map(str, failed))}); their output is above")
    return 0
