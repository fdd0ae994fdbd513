"""Run a command where the system refuses to switch address randomisation off, as Docker's
default seccomp profile does: ``personality(2)`` may only query (x86-64 Linux).

Usage: python no_personality.py COMMAND [ARGS...]
"""

import ctypes
import os
import struct
import sys

AUDIT_ARCH_X86_64 = 0xC000003E
PERSONALITY = 135  # the x86-64 system call number
QUERY = 0xFFFFFFFF
LOAD, JUMP_IF_EQUAL, RETURN = 0x20, 0x15, 0x06
ALLOW, EPERM = 0x7FFF0000, 0x00050000 | 1
PROGRAM = [
    (LOAD, 0, 0, 4),  # the architecture
    (JUMP_IF_EQUAL, 0, 4, AUDIT_ARCH_X86_64),
    (LOAD, 0, 0, 0),  # the system call number
    (JUMP_IF_EQUAL, 0, 2, PERSONALITY),
    (LOAD, 0, 0, 16),  # its first argument
    (JUMP_IF_EQUAL, 1, 0, QUERY),
    (RETURN, 0, 0, EPERM),
    (RETURN, 0, 0, ALLOW),
]
PROGRAM[1] = (JUMP_IF_EQUAL, 0, 5, AUDIT_ARCH_X86_64)  # not x86-64: allow
PROGRAM[3] = (JUMP_IF_EQUAL, 0, 3, PERSONALITY)  # another call: allow

if __name__ == "__main__":
    code = b"".join(struct.pack("HBBI", *instruction) for instruction in PROGRAM)
    buffer = ctypes.create_string_buffer(code)
    program = struct.pack("HxxxxxxP", len(PROGRAM), ctypes.addressof(buffer))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
        sys.exit(f"prctl(PR_SET_NO_NEW_PRIVS) failed: {os.strerror(ctypes.get_errno())}")
    fprog = ctypes.create_string_buffer(program)
    if libc.prctl(22, 2, ctypes.addressof(fprog), 0, 0) != 0:  # PR_SET_SECCOMP, FILTER
        sys.exit(f"prctl(PR_SET_SECCOMP) failed: {os.strerror(ctypes.get_errno())}")
    os.execv(sys.argv[1], sys.argv[1:])
