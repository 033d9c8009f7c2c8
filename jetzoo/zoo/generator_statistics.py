"""What a generator needs to know of its training set, measured once when a fit starts and kept in the checkpoint as
buffers, so that a checkpoint samples without its data (`JetGenerator` mixes it in): per particle feature the mean,
standard deviation and largest |value| of the real particles, the smallest positive pT_rel, and the multiplicity
counts per class (row) and n = 0..P (column), with the draws and masks made from them. One pass over at most
STATISTICS_BATCHES training batches; until a fit measures them, standardisation is the identity and
multiplicities are uniform over 1..P."""

from __future__ import annotations

import torch

STATISTICS_BATCHES = 200


class TrainingStatistics:
    def init_training_statistics(self, num_particles: int) -> None:
        self.register_buffer("feature_mean", torch.zeros(3))
        self.register_buffer("feature_std", torch.ones(3))
        self.register_buffer("feature_absmax", torch.ones(3))
        self.register_buffer("min_pt", torch.tensor(0.0))
        counts = torch.ones(self.num_classes, num_particles + 1)
        counts[:, 0] = 0
        self.register_buffer("multiplicity_counts", counts)
        self.register_buffer("statistics_measured", torch.tensor(False))

    def on_fit_start(self):
        if not hasattr(self, "statistics_measured") or bool(self.statistics_measured):
            return
        if self.trainer is None or self.trainer.datamodule is None:
            return
        sums, squares, n = torch.zeros(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64), 0
        absmax, min_pt = torch.zeros(3, dtype=torch.float64), float("inf")
        counts = torch.zeros_like(self.multiplicity_counts, dtype=torch.float64)
        for i, batch in enumerate(self.trainer.datamodule.train_dataloader()):
            if i >= STATISTICS_BATCHES:
                break
            mask = batch["mask"].bool()
            x = batch["cloud"].double()[mask]
            sums += x.sum(0)
            squares += (x * x).sum(0)
            n += len(x)
            if len(x):
                absmax = torch.maximum(absmax, x.abs().max(0).values)
                positive = x[:, 2][x[:, 2] > 0]
                min_pt = min(min_pt, float(positive.min())) if len(positive) else min_pt
            rows = batch["label"].long() if getattr(self, "conditional", False) else torch.zeros_like(batch["label"].long())
            counts.index_put_((rows, mask.sum(1)), torch.ones(len(rows), dtype=torch.float64), accumulate=True)
        if n < 2:
            return
        mean = sums / n
        self.feature_mean.copy_(mean.float())
        self.feature_std.copy_((squares / n - mean * mean).clamp_min(1e-12).sqrt().float())
        self.feature_absmax.copy_(torch.where(absmax > 0, absmax, torch.ones_like(absmax)).float())
        self.min_pt.fill_(min_pt if min_pt < float("inf") else 0.0)
        if not getattr(self, "conditional", False):
            counts[:] = counts[0]
        counts[counts.sum(1) == 0] = counts.sum(0)  # a class absent from the batches read: all classes'
        self.multiplicity_counts.copy_(counts.float().to(self.multiplicity_counts.device))
        self.statistics_measured.fill_(True)

    def condition(self, labels: torch.Tensor) -> torch.Tensor:
        """The class as a one-hot (B, C) when the generator is `conditional`, else an empty (B, 0)."""
        if not getattr(self, "conditional", False):
            return torch.zeros(len(labels), 0, device=labels.device)
        return torch.nn.functional.one_hot(labels.long(), self.num_classes).float()

    def leading_mask(self, counts: torch.Tensor, num_particles: int) -> torch.Tensor:
        """(B, P) float mask of the counts[b] leading slots."""
        return (torch.arange(num_particles, device=counts.device)[None, :] < counts[:, None]).float()

    def draw_counts(self, labels: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Multiplicities (B,) drawn from the training set's (per class when conditional)."""
        rows = labels.long() if getattr(self, "conditional", False) else torch.zeros_like(labels.long())
        return torch.multinomial(self.multiplicity_counts[rows].clamp_min(0), 1, generator=generator).squeeze(1)
