#!/usr/bin/env python3
"""qmp_monitor.py - watches one QEMU run of a scenario over QMP (lib.sh).

QEMU runs with -no-reboot and -action shutdown=pause, so a power-off or a
reset pauses it instead of ending it, and this script decides:
  - a power-off (dom0's ACPI poweroff): quit, as QEMU would have;
  - a reset, i.e. a CPU triple-faulted: before quitting, check whether the
    fault was real.  QEMU 7.2's TCG at times fails the hypervisor's own
    page walk right after a #VMEXIT (seen in domain-churn: a not-present
    #PF at the instruction after VMRUN, then on the IDT, then a triple
    fault) although the page tables in memory map both addresses.  When a
    CPU stopped in Kiln's code (RIP in its image) with both RIP and CR2
    mapped in memory, the emulator failed, not Kiln: that is written to
    FAULT_FILE, and lib.sh boots the scenario once more.
It also sends an NMI to every CPU NMI_AT seconds after start (a run that
gets that far has hung: Kiln then logs where each CPU is).

usage: qmp_monitor.py SOCKET NMI_AT FAULT_FILE
"""
import json
import re
import select
import socket
import sys
import time

KILN_IMAGE = 0xffffffff80000000
PTE_P, PTE_PS = 1, 1 << 7
ADDR = 0x000ffffffffff000


class Qmp:
    """QMP over a UNIX socket, one JSON message a line.  Lines are split
    from a buffer of our own, so waiting for an event with a timeout
    (select) never leaves a half-read line behind."""

    def __init__(self, path):
        for _ in range(600):                    # 30 s: QEMU may start slowly on a loaded host
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                time.sleep(0.05)
        else:
            raise OSError("no QMP socket at " + path)
        self.buf = b""
        self.events = []
        self.readline(None)                     # greeting
        self.cmd("qmp_capabilities")

    def readline(self, timeout):
        """The next message, or None when timeout (seconds) passes first."""
        while b"\n" not in self.buf:
            if timeout is not None and not select.select([self.sock], [], [], timeout)[0]:
                return None
            data = self.sock.recv(65536)
            if not data:
                raise EOFError
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, name, **args):
        msg = {"execute": name, "arguments": args} if args else {"execute": name}
        self.sock.sendall((json.dumps(msg) + "\n").encode())
        while True:
            reply = self.readline(None)
            if "event" in reply:
                self.events.append(reply)
            elif "return" in reply or "error" in reply:
                return reply.get("return")

    def hmp(self, line):
        return self.cmd("human-monitor-command", **{"command-line": line}) or ""

    def next_event(self, timeout):
        if self.events:
            return self.events.pop(0)
        return self.readline(timeout)


def read_u64(qmp, pa):
    m = re.search(r":\s*0x([0-9a-f]+)", qmp.hmp("xp /1gx 0x%x" % pa))
    return int(m.group(1), 16) if m else 0


def mapped(qmp, cr3, va):
    """True when 4-level paging from cr3 maps va (present at every level)."""
    table = cr3 & ADDR
    for level in (3, 2, 1, 0):
        entry = read_u64(qmp, table + ((va >> (12 + 9 * level)) & 511) * 8)
        if not entry & PTE_P:
            return False
        if level in (1, 2) and entry & PTE_PS:
            return True
        table = entry & ADDR
    return True


def emulator_fault(qmp):
    """A CPU stopped in Kiln whose RIP and CR2 are both mapped: say which.
    Otherwise print every CPU's RIP, CR2 and CR3 (a triple fault of Kiln's
    own, or of a kind not recognised yet) and return None."""
    cpus = qmp.hmp("info registers -a").split("CPU#")[1:]
    for cpu in cpus:
        regs = dict(re.findall(r"(RIP|CR2|CR3)=([0-9a-f]+)", cpu))
        if len(regs) < 3:
            continue
        rip, cr2, cr3 = (int(regs[k], 16) for k in ("RIP", "CR2", "CR3"))
        if rip >= KILN_IMAGE and cr2 >= KILN_IMAGE and mapped(qmp, cr3, rip) and mapped(qmp, cr3, cr2):
            return "CPU %s triple-faulted at RIP %x (last #PF at %x) though its page tables " \
                   "(CR3 %x) map both" % (cpu.split()[0], rip, cr2, cr3)
    for cpu in cpus:
        regs = " ".join("%s=%s" % r for r in re.findall(r"(RIP|RSP|CR0|CR2|CR3)=([0-9a-f]+)", cpu))
        print("reset: CPU %s %s" % (cpu.split()[0], regs), flush=True)
    return None


def main():
    path, nmi_at, fault_file = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    start = time.monotonic()
    qmp = Qmp(path)
    nmi_sent = False
    while True:
        wait = max(0.05, nmi_at - (time.monotonic() - start)) if not nmi_sent else 3600
        event = qmp.next_event(wait)
        if event is None:
            qmp.cmd("inject-nmi")
            print("NMI sent to every CPU", flush=True)
            nmi_sent = True
            continue
        if event.get("event") != "SHUTDOWN":
            continue
        if event.get("data", {}).get("reason") == "guest-reset":
            why = emulator_fault(qmp)
            if why:
                with open(fault_file, "w") as out:
                    out.write(why + "\n")
        qmp.cmd("quit")
        return


if __name__ == "__main__":
    try:
        main()
    except (EOFError, BrokenPipeError, ConnectionResetError):
        pass    # QEMU ended by itself (isa-debug-exit, timeout)
    except Exception as e:     # never leave a paused QEMU waiting for its timeout
        print("qmp_monitor: %s: %s" % (type(e).__name__, e), flush=True)
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(sys.argv[1])
            s.sendall(b'{"execute": "qmp_capabilities"}\n{"execute": "quit"}\n')
            time.sleep(0.5)
        except OSError:
            pass
