# Attack: take all the memory, in one process.
chunks = []
while True:
    chunks.append(bytearray(64 * 2**20))
