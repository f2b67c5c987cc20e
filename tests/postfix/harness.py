"""A private, real Postfix (Debian's package) around sendguard, on loopback ports chosen at run time.

    client --SMTP--> Postfix smtpd (front) --(queue)--> sendguard --> Postfix smtpd (re-inject)
                                                                        --(queue)--> Sink

Postfix runs as its own instance: `postfix -c DIR start` with its own config_directory, queue
and data directories under one temporary root, no DNS (`smtp_dns_support_level = disabled`),
every next hop a loopback port; `postmulti` and the machine's /etc/postfix are not involved.
main.cf/master.cf are the shipped files of `config/postfix/<mode>/` appended to a base setup,
with only their loopback ports substituted, so the README recipes are what was tested.

Postfix's daemons drop to the `postfix` user: the root directory is created 0755 outside
pytest's 0700 tmp tree so they can reach their queue, and `postfix start` creates and chowns
the queue subdirectories itself (post-install create-missing).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "config" / "postfix"
POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
POSTQUEUE = shutil.which("postqueue") or "/usr/sbin/postqueue"
DEBIAN_MASTER_CF = Path("/etc/postfix/master.cf")

# the ports as the shipped files spell them; each is replaced by a free loopback port
SHIPPED_SENDGUARD = "127.0.0.1:2525"
SHIPPED_REINJECT = {"after-queue": "127.0.0.1:10026", "before-queue": "127.0.0.1:10025"}
QUEUE_DIRS = ("maildrop", "incoming", "active", "deferred", "hold", "corrupt")


def postfix_installed() -> bool:
    return Path(POSTFIX).exists() and DEBIAN_MASTER_CF.is_file()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float, alive: Callable[[], bool] = lambda: True) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if not alive():
                raise RuntimeError(f"process listening on {port} exited") from None
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def message_id(data: bytes) -> str | None:
    value = BytesHeaderParser(policy=compat32).parsebytes(data[:65536]).get("Message-ID")
    return str(value).strip() if value is not None else None


# --- the final upstream -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    mail_options: tuple[str, ...]
    data: bytes

    @property
    def message_id(self) -> str | None:
        return message_id(self.data)


@dataclass
class Sink:
    """The last hop (Postfix's relayhost, or sendguard's upstream): records what it accepted.

    `reply` (e.g. ``"451 4.3.0 try later"``) makes it refuse DATA; thread-safe for the tests.
    """

    received: list[Received] = field(default_factory=list)
    reply: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.reply:
            return self.reply
        with self.lock:
            self.received.append(
                Received(
                    "" if envelope.mail_from in (None, "", "<>") else envelope.mail_from,
                    tuple(envelope.rcpt_tos),
                    tuple(envelope.mail_options),
                    bytes(envelope.original_content or b""),
                )
            )
        return "250 2.0.0 Ok: sink"

    def snapshot(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def count(self, ids: Iterator[str] | list[str]) -> Counter[str]:
        """How many copies of each Message-ID in `ids` arrived (to a real recipient, not a DSN)."""
        wanted = set(ids)
        got: Counter[str] = Counter()
        for r in self.snapshot():
            mid = r.message_id
            if r.mail_from and mid in wanted:
                got[mid] += 1
        return got

    def bounces(self) -> list[Received]:
        """Delivery status notifications (null sender) that reached the sink."""
        return [r for r in self.snapshot() if r.mail_from == ""]


@contextlib.contextmanager
def running_sink(port: int | None = None) -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    port = port or free_port()
    controller = Controller(
        sink, hostname="127.0.0.1", port=port, server_kwargs={"enable_SMTPUTF8": True}, ready_timeout=10
    )
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# --- Postfix ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ports:
    front: int  # where clients submit
    sendguard: int
    reinject: int  # where sendguard relays to
    relayhost: int  # the sink


def base_main_cf(root: Path, ports: Ports, message_size_limit: int) -> str:
    """What any Postfix needs here: its own directories, loopback only, no DNS, fast retries."""
    return f"""\
compatibility_level = 3.6
queue_directory = {root}/spool
data_directory = {root}/lib
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix.test
mydomain = test
myorigin = $myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
relayhost = [127.0.0.1]:{ports.relayhost}
smtp_dns_support_level = disabled
smtp_bind_address = 127.0.0.1
maillog_file = {root}/maillog
maillog_file_prefixes = {root}
message_size_limit = {message_size_limit}
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
smtp_connect_timeout = 5s
delay_warning_time = 0h
biff = no
smtputf8_enable = yes
"""


def base_master_cf(front: int) -> str:
    """Debian's master.cf, unchrooted (the queue is a temporary directory), `smtp inet` on `front`."""
    out: list[str] = []
    for line in DEBIAN_MASTER_CF.read_text().splitlines():
        fields = line.split()
        if line and not line[0].isspace() and not line.startswith("#") and len(fields) >= 8:
            fields[4] = "n"  # chroot
            if fields[0] == "smtp" and fields[1] == "inet":
                fields[0] = f"127.0.0.1:{front}"
            line = "  ".join(fields)
        out.append(line)
    return "\n".join(out) + "\n"


def render(text: str, mode: str, ports: Ports) -> str:
    """A shipped file with its loopback ports replaced; the front `smtp inet` service renamed."""
    text = text.replace(f"[{SHIPPED_SENDGUARD[:-5]}]:2525", f"[127.0.0.1]:{ports.sendguard}")
    text = text.replace(SHIPPED_SENDGUARD, f"127.0.0.1:{ports.sendguard}")
    text = text.replace(SHIPPED_REINJECT[mode], f"127.0.0.1:{ports.reinject}")
    return re.sub(r"(?m)^smtp(\s+)inet\b", rf"127.0.0.1:{ports.front}\1inet", text)


def shipped(mode: str, name: str) -> str:
    return (SHIPPED / mode / name).read_text()


class Postfix:
    """One private Postfix instance; `start()`/`stop()`, queue inspection, `flush()`."""

    def __init__(
        self,
        root: Path,
        mode: str,
        ports: Ports,
        *,
        message_size_limit: int = 10_240_000,
        edit_master: Callable[[str], str] = lambda text: text,
    ) -> None:
        self.root, self.mode, self.ports = root, mode, ports
        self.etc = root / "etc"
        self.etc.mkdir(parents=True)
        (root / "spool").mkdir(mode=0o755)
        (root / "lib").mkdir(mode=0o700)
        shutil.chown(root / "lib", "postfix", "postfix")
        main = (
            base_main_cf(root, ports, message_size_limit)
            + "\n"
            + render(shipped(mode, "main.cf"), mode, ports)
        )
        if mode == "before-queue":  # the shipped front service replaces Debian's `smtp inet`
            master = re.sub(r"(?m)^smtp\s+inet\b.*\n", "", base_master_cf(ports.front))
        else:
            master = base_master_cf(ports.front)
        master += "\n" + edit_master(render(shipped(mode, "master.cf"), mode, ports))
        (self.etc / "main.cf").write_text(main)
        (self.etc / "master.cf").write_text(master)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, capture_output=True, text=True, timeout=60, check=check)

    def start(self) -> None:
        result = self._run(POSTFIX, "-c", str(self.etc), "start", check=False)
        if result.returncode != 0:
            raise RuntimeError(f"postfix start failed: {result.stdout}{result.stderr}{self.log()}")
        try:
            wait_for_port(self.ports.front, 60)
            wait_for_port(self.ports.reinject, 60)
        except TimeoutError as exc:
            raise RuntimeError(f"postfix did not listen: {exc}\n{self.log()[-3000:]}") from None

    def master_pid(self) -> int | None:
        with contextlib.suppress(FileNotFoundError, ValueError):
            return int((self.root / "spool" / "pid" / "master.pid").read_text().strip())
        return None

    def stop(self) -> None:
        pid = self.master_pid()
        self._run(POSTFIX, "-c", str(self.etc), "stop", check=False)
        if pid is None:
            return
        try:
            wait_until(lambda: not _alive(pid), 15, "postfix master to exit")
        except TimeoutError:  # pragma: no cover - a master that ignored `stop`
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)

    def flush(self) -> None:
        """`postqueue -f`: retry everything deferred now."""
        self._run(POSTQUEUE, "-c", str(self.etc), "-f")

    def queued(self) -> int:
        """Messages in Postfix's queue (any state)."""
        spool = self.root / "spool"
        return sum(1 for d in QUEUE_DIRS for p in (spool / d).rglob("*") if p.is_file())

    def log(self) -> str:
        path = self.root / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""


@contextlib.contextmanager
def postfix_instance(mode: str, ports: Ports, **kwargs: object) -> Iterator[Postfix]:
    root = Path(tempfile.mkdtemp(prefix="sendguard-postfix-"))
    root.chmod(0o755)  # the postfix user must reach its queue
    pf = Postfix(root, mode, ports, **kwargs)  # type: ignore[arg-type]
    pf.start()
    try:
        yield pf
    finally:
        pf.stop()
        shutil.rmtree(root, ignore_errors=True)


# --- sendguard ----------------------------------------------------------------------------------


class Sendguard:
    """`sendguard serve` as a subprocess with a config file; stop/kill/start for fault tests."""

    def __init__(
        self, root: Path, settings: Mapping[str, str | int | bool], *, port: int | None = None
    ) -> None:
        self.root = root
        self.port = port or free_port()
        self.config = root / "sendguard.toml"
        self.env = dict(os.environ)
        self.env.update(
            SENDGUARD_CONFIG=str(self.config),
            SENDGUARD_LISTEN__PORT=str(self.port),
            SENDGUARD_REVIEW__ENABLED="false",
            SENDGUARD_ADMIN__PORT=str(free_port()),  # never the fixed 9025 another serve may hold
            SENDGUARD_QUARANTINE__URL=f"sqlite+aiosqlite:///{root}/quarantine.db",
            SENDGUARD_QUARANTINE__KEY_FILE=str(root / "quarantine.key"),
            SENDGUARD_RELAY__OUTBOX_DIR=str(root / "outbox"),
            SENDGUARD_SCAN__WORKERS="1",
        )
        self.env.update({k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in settings.items()})
        self.config.write_text("# settings come from the environment in this test\n")
        self.proc: subprocess.Popen[bytes] | None = None
        self.logs: list[Path] = []

    def start(self, timeout: float = 120) -> None:
        log = self.root / f"serve-{len(self.logs)}.log"
        self.logs.append(log)
        with log.open("wb") as fh:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "scanner.cli", "serve"],
                env=self.env,
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: SIGKILL takes the workers too
            )
        proc = self.proc
        try:
            wait_for_port(self.port, timeout, alive=lambda: proc.poll() is None)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"sendguard serve did not start: {exc}\n{self.log()[-3000:]}") from None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 40) -> int:
        """SIGTERM: graceful (the process stops its workers); SIGKILL: the whole group, as a
        container runtime or the OOM killer would."""
        assert self.proc is not None
        if sig == signal.SIGKILL:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
        else:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def log(self) -> str:
        return "".join(p.read_text(errors="replace") for p in self.logs if p.exists())

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "scanner.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
