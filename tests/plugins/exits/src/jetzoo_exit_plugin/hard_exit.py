"""A plugin model whose __init__ ends the process outright (os._exit: no exception to catch)."""

import os

import lightning as L


class ExitingModel(L.LightningModule):
    input_view = "hl"
    task = "tagging"

    def __init__(self):
        super().__init__()
        os._exit(3)
