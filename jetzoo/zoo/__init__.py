"""The model zoo: one model family per module, each registered through the `jetzoo.models` entry point.

Each model is a plain `nn.Module` backbone under a task module (`base.JetTagger`,
`generative_base.AnomalyDetector`, `generative_base.JetGenerator`).

May import: `jetzoo.datamodules`, `jetzoo.generate`, `jetzoo.metrics`, `jetzoo.physics`, `jetzoo.io`,
`jetzoo.errors`. Never the registry, training, bench, export or cli rooms above it.
"""
