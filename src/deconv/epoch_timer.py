"""EpochTimer, the callback that times and reports each epoch; its own module, as it imports Keras."""

from __future__ import annotations

import time

import keras


class EpochTimer(keras.callbacks.Callback):
    """Adds each epoch's wall-clock seconds to the logs (so CSVLogger records them) and prints one line.

    Use it with ``fit(..., verbose=0)``: Keras' own line would print the
    seconds as a metric with four decimals. After each epoch, ``seconds``
    and ``cpu_seconds`` (this process, all its threads) hold its times.
    ``every=10`` prints only every tenth epoch's line and the last one's.
    """

    def __init__(self, show: bool = True, every: int = 1):
        super().__init__()
        self.show = show
        self.every = every

    def on_train_begin(self, logs=None):
        self.epochs = self.params.get("epochs")

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()
        self.cpu_started = time.process_time()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds = seconds = time.perf_counter() - self.started
        self.cpu_seconds = time.process_time() - self.cpu_started
        if logs is not None:
            logs["seconds"] = round(seconds, 2)
        if self.show and ((epoch + 1) % self.every == 0 or epoch + 1 == self.epochs):
            metrics = "  ".join(
                f"{key} {value:.4f}" for key, value in (logs or {}).items() if key != "seconds"
            )
            print(f"epoch {epoch + 1:>3}/{self.epochs}  {seconds:5.1f} s  {metrics}", flush=True)
