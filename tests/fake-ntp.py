#!/usr/bin/env python3
"""A minimal NTP server for lab tests: answers every client request (mode 3) with the local
time shifted by OFFSET seconds, stratum 1, so a test can give the gateway a clock source that is
off by a known amount. Usage: fake-ntp.py ADDRESS OFFSET_SECONDS"""
import socket
import struct
import sys
import time

NTP_EPOCH = 2208988800


def ntp_time(t):
    seconds = int(t) + NTP_EPOCH
    fraction = int((t - int(t)) * (1 << 32))
    return struct.pack(">II", seconds & 0xFFFFFFFF, fraction & 0xFFFFFFFF)


def main():
    address, offset = sys.argv[1], float(sys.argv[2])
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind((address, 123))
    while True:
        data, peer = sock.recvfrom(512)
        received = time.time() + offset
        if len(data) < 48 or data[0] & 0x07 != 3:
            continue
        version = (data[0] >> 3) & 0x07
        header = struct.pack(">BBbb", (0 << 6) | (version << 3) | 4, 1, data[2], -20)
        root = struct.pack(">II", 0, 0x10)  # root delay, root dispersion
        ref_id = b"LAB\x00"
        reply = header + root + ref_id + ntp_time(received - 1) + data[40:48] + ntp_time(received) + ntp_time(time.time() + offset)
        sock.sendto(reply, peer)


if __name__ == "__main__":
    main()
