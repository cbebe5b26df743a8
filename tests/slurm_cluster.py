"""A one-node SLURM cluster on 127.0.0.1 for tests: munged, slurmctld and slurmd.

Keys, state, spool, logs and pid files live in one folder. The config is written to
that folder and to ``/etc/slurm/slurm.conf``, SLURM's default path: the jobs that
snakemake-executor-plugin-slurm submits run ``srun`` with every ``SLURM_*`` variable
removed, ``SLURM_CONF`` included, so only the default path reaches them. A
``slurm.conf`` that this module did not write is never replaced (the cluster then
cannot start). Debian's ``slurm-wlm`` and ``munge`` are installed with apt when they
are missing and the tests run as root.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

PACKAGES = ("slurm-wlm", "munge")
SYSTEM_CONFIG = Path("/etc/slurm")
#: First line of every slurm.conf this module writes.
MARK = "# ebscan test cluster"


def missing_reason() -> str | None:
    """Why a cluster cannot be started here, or None when it can (after installing)."""
    existing = SYSTEM_CONFIG / "slurm.conf"
    if existing.exists() and not existing.read_text().startswith(MARK):
        return f"{existing} belongs to another SLURM cluster"
    if all(shutil.which(tool) for tool in ("slurmctld", "slurmd", "munged", "sbatch")):
        return None
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "slurm-wlm and munge are not installed, and apt-get as root is not available"
    install = ["apt-get", "install", "-y", "-qq", *PACKAGES]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    done = subprocess.run(install, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True, env=env)
        done = subprocess.run(install, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        return f"apt-get install {' '.join(PACKAGES)} failed: {done.stderr.strip()[-500:]}"
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalSlurm:
    """A SLURM cluster of one node (this host, at 127.0.0.1), kept in folder ``root``.

    The node announces ``cpus``, ``memory_mb`` and one GPU whatever the machine has
    (``SlurmdParameters=config_overrides``), so that a site profile's requests (8
    cores, a GPU) can be scheduled on a small test machine. The GPU is counted, not
    bound to a device: jobs asking for it queue for it, as on a real cluster, and run
    on the CPU.
    """

    def __init__(self, root: Path, cpus: int = 16, memory_mb: int = 64000) -> None:
        self.root = Path(root)
        self.cpus, self.memory_mb = cpus, memory_mb
        self.conf = self.root / "slurm.conf"
        self.munge_socket = self.root / "munge" / "munge.socket"
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}

    def _write_config(self) -> None:
        host = socket.gethostname().split(".")[0]
        for name in ("state", "spool", "log"):
            (self.root / name).mkdir(parents=True, exist_ok=True)
        lines = {
            "ClusterName": "ebscan",
            "SlurmctldHost": f"{host}(127.0.0.1)",
            "SlurmctldPort": free_port(),
            "SlurmdPort": free_port(),
            "SlurmUser": "root",
            "SlurmdUser": "root",
            "AuthType": "auth/munge",
            "AuthInfo": f"socket={self.munge_socket}",
            "CredType": "cred/munge",
            "StateSaveLocation": self.root / "state",
            "SlurmdSpoolDir": self.root / "spool",
            "SlurmctldPidFile": self.root / "slurmctld.pid",
            "SlurmdPidFile": self.root / "slurmd.pid",
            "SlurmctldLogFile": self.root / "log" / "slurmctld.log",
            "SlurmdLogFile": self.root / "log" / "slurmd.log",
            # No cgroups in a container: track job processes by process group.
            "ProctrackType": "proctrack/pgid",
            "TaskPlugin": "task/none",
            "JobAcctGatherType": "jobacct_gather/none",
            # No slurmdbd: finished jobs stay visible to squeue for an hour.
            "AccountingStorageType": "accounting_storage/none",
            "MinJobAge": 3600,
            "SelectType": "select/cons_tres",
            "SelectTypeParameters": "CR_Core_Memory",
            "SlurmdParameters": "config_overrides",
            "GresTypes": "gpu",
            "ReturnToService": 2,
            "MpiDefault": "none",
            "SchedulerParameters": "sched_interval=1",
        }
        text = MARK + "\n" + "".join(f"{key}={value}\n" for key, value in lines.items())
        text += (
            f"NodeName={host} NodeAddr=127.0.0.1 CPUs={self.cpus} "
            f"RealMemory={self.memory_mb} Gres=gpu:1 State=UNKNOWN\n"
            "PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP\n"
        )
        # A GPU that SLURM counts and hands out, backed by /dev/null (SLURM wants a
        # device file; TensorFlow runs on the CPU).
        gres = f"NodeName={host} Name=gpu File=/dev/null Count=1\n"
        for folder in (self.root, SYSTEM_CONFIG):
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "slurm.conf").write_text(text)
            (folder / "gres.conf").write_text(gres)

    def _start_munge(self) -> None:
        folder = self.munge_socket.parent
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = folder / "munge.key"
        subprocess.run(["mungekey", "--create", "--keyfile", str(key)], check=True)
        subprocess.run(
            [
                "munged",
                "--force",  # munged refuses root without it
                f"--socket={self.munge_socket}",
                f"--key-file={key}",
                f"--pid-file={folder / 'munged.pid'}",
                f"--log-file={folder / 'munged.log'}",
                f"--seed-file={folder / 'munged.seed'}",
            ],
            check=True,
        )

    def start(self, timeout_s: float = 60) -> LocalSlurm:
        """Start the daemons and wait until the node is idle."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._write_config()
        self._start_munge()
        subprocess.run(["slurmctld", "-f", str(self.conf)], check=True, env=self.env)
        subprocess.run(["slurmd", "-f", str(self.conf)], check=True, env=self.env)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            state = subprocess.run(
                ["sinfo", "--noheader", "--format=%T"], capture_output=True, text=True, env=self.env
            ).stdout.strip()
            if state == "idle":
                return self
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"SLURM node not idle after {timeout_s} s: {state!r}; {self.logs()}")

    def jobs(self) -> list[dict[str, str]]:
        """Every job slurmctld still knows (all of them, for an hour).

        Keys: id, name, state, comment (the plugin's ``rule_<name>...``), tres_per_job
        (``gres:gpu:1`` for a GPU request) and tres (cpus and memory allocated).
        """
        keys = ("id", "name", "state", "comment", "tres_per_job", "tres")
        fields = ("JobID", "Name", "State", "Comment", "tres-per-job", "tres-alloc")
        out = subprocess.run(
            [
                "squeue",
                "--all",
                "--states=all",
                "--noheader",
                "-O",
                ",".join(f + ":|" for f in fields),
            ],
            capture_output=True,
            text=True,
            check=True,
            env=self.env,
        ).stdout
        return [
            dict(zip(keys, (v.strip() for v in line.split("|")[: len(keys)]), strict=True))
            for line in out.splitlines()
        ]

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text()[-2000:]}"
            for path in sorted((self.root / "log").glob("*.log"))
        )

    def stop(self) -> None:
        """Stop the daemons, newest first, and remove the config from /etc/slurm."""
        for pid_file in (
            self.root / "slurmd.pid",
            self.root / "slurmctld.pid",
            self.munge_socket.parent / "munged.pid",
        ):
            if pid_file.exists():
                try:
                    os.kill(int(pid_file.read_text()), signal.SIGTERM)
                except (ProcessLookupError, ValueError):
                    pass
        system = SYSTEM_CONFIG / "slurm.conf"
        if system.exists() and system.read_text().startswith(MARK):
            system.unlink()
            (SYSTEM_CONFIG / "gres.conf").unlink(missing_ok=True)
