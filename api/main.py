"""The ASGI app uvicorn serves (settings from the environment)."""

import sys

from api.app import create_app

# Hand the interpreter between threads every millisecond rather than every five: under a
# flood of heavy reads (a few run at once, see QuerySlots) the event loop and the writer
# thread get their turn five times sooner, which keeps appends fast
# (bench/reads_vs_writes.py: append p99 under 32 heavy readers about halves).
sys.setswitchinterval(0.001)

app = create_app()
