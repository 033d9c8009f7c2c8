"""Lightning's model summary without its FLOPs column when no FLOPs were counted.

Lightning counts FLOPs only by running `example_input_array`, which jetzoo's models do not set (their
input shapes come from the data), so its summary showed "0" in every row and "0 Total Flops". The
FLOPs per jet of every model are measured where they mean something: the leaderboard's FLOPs/jet
column (`jetzoo.bench.measure`).
"""

from __future__ import annotations

import logging

from lightning.pytorch.callbacks import ModelSummary
from lightning.pytorch.utilities.model_summary.model_summary import _format_summary_table

log = logging.getLogger("lightning.pytorch.callbacks.model_summary")


class CountedModelSummary(ModelSummary):
    """`ModelSummary`, its FLOPs column and total left out when they are all zero (not counted)."""

    @staticmethod
    def summarize(summary_data, total_parameters, trainable_parameters, model_size, total_training_modes,
                  total_flops, **summarize_kwargs) -> None:
        if total_flops:
            return ModelSummary.summarize(summary_data, total_parameters, trainable_parameters, model_size,
                                          total_training_modes, total_flops, **summarize_kwargs)
        columns = [column for column in summary_data if column[0] != "FLOPs"]
        table = _format_summary_table(total_parameters, trainable_parameters, model_size, total_training_modes,
                                      0, *columns)
        log.info("\n" + table.rsplit("\n", 1)[0])  # the last line is "0  Total Flops"
