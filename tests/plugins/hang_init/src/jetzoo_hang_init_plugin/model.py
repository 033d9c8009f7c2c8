"""A plugin model that imports fine but whose __init__ never returns."""

from jetzoo.zoo.base import JetTagger


class HangingTagger(JetTagger):
    input_view = "hl"

    def __init__(self, num_classes: int = 2):
        super().__init__(num_classes)
        while True:
            pass

    def forward(self, batch):
        raise NotImplementedError
